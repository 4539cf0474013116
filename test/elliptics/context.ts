/** Driver context and driver construction for the Elliptics tests. */
import type { DriverContext, StorageDriver } from '../../src/storage/driver.js';
import { driverErrors } from '../../src/storage/errors.js';
import { createDriver, type EllipticsOptions } from '../../plugins/elliptics/src/index.js';
import { EmulatorCluster } from './emulator.js';

export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const testContext = (): DriverContext => ({ logger: quietLogger, errors: driverErrors('elliptics'), baseDir: process.cwd() });

export const ellipticsDriver = async (options: EllipticsOptions): Promise<StorageDriver> => createDriver(options, testContext());

export interface EmulatedDriver {
  driver: StorageDriver;
  cluster: EmulatorCluster;
}

/**
 * A fresh emulated cluster (three nodes serving groups 1, 2 and 3, routing enforced) and a driver on it whose
 * `close()` also stops the cluster.
 */
export async function startEmulatedDriver(options: Partial<EllipticsOptions> = {}): Promise<EmulatedDriver> {
  const cluster = await new EmulatorCluster([{ groups: [1, 2, 3] }, { groups: [1, 2, 3] }, { groups: [1, 2, 3] }], { idsPerBackend: 2 }).start();
  let driver: StorageDriver;
  try {
    driver = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2, 3], waittimeout: 10, ...options });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  const close = driver.close?.bind(driver);
  return {
    cluster,
    driver: Object.assign(driver, {
      async close() {
        await close?.();
        await cluster.stop();
      },
    }),
  };
}
