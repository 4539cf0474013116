/** stowage on a driver under test, in this process, for the end-to-end suite. */
import { startRegistry } from '../../embed.js';
import type { StorageDriver } from '../../storage/driver.js';
import type { RunningRegistry } from './registry-under-test.js';

export interface StowageOnDriverOptions {
  /** default true: the e2e suite deletes */
  readonly deleteEnabled?: boolean;
  /** answer blob GETs with the driver's redirect URLs when it has them (default true) */
  readonly redirect?: boolean;
  /** close the driver too when the registry is closed (default false: the caller owns it) */
  readonly closeDriver?: boolean;
}

/**
 * stowage serving `driver` on a free loopback port, built as `stowage serve` builds it (src/container.ts:
 * the driver wrapped by src/storage/base.ts, the same registry and HTTP server).
 */
export async function startStowageOnDriver(driver: StorageDriver, options: StowageOnDriverOptions = {}): Promise<RunningRegistry> {
  const running = await startRegistry({ driver, deleteEnabled: options.deleteEnabled ?? true, redirect: options.redirect ?? true, addr: '127.0.0.1:0' });
  const url = running.url.replace(/\/+$/, '');
  return {
    url,
    host: new URL(url).host,
    async close() {
      await running.close();
      if (options.closeDriver) await driver.close?.();
    },
  };
}
