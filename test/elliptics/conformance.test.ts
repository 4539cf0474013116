/** stowage's driver conformance kit against the Elliptics driver on three emulated nodes serving groups 1-3. */
import { createDriverContext, runDriverConformance } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/elliptics/src/index.js';
import { EmulatorCluster } from './emulator.js';

runDriverConformance({
  name: 'elliptics (3 emulated nodes, groups 1-3)',
  profile: 'ci',
  // The elliptics writer does not yet refuse a writer overtaken by another at the same size (no claim on
  // the size it starts from); its staging is being reworked for linear space. Until then this case fails.
  skip: ['ConflictingAppendRefused'],
  async create() {
    const cluster = await new EmulatorCluster([{ groups: [1, 2, 3] }, { groups: [1, 2, 3] }, { groups: [1, 2, 3] }], { idsPerBackend: 2 }).start();
    const driver = await createDriver({ nodes: cluster.remotes, groups: [1, 2, 3], waittimeout: 10 }, createDriverContext('elliptics'));
    const close = driver.close?.bind(driver);
    return Object.assign(driver, {
      async close() {
        await close?.();
        await cluster.stop();
      },
    });
  },
});
