/**
 * stowage's driver conformance kit against the Elliptics driver on three emulated nodes serving groups 1-3;
 * the two-instance tests get a second driver on the same cluster, as a second registry process would have.
 */
import { afterAll, beforeAll } from 'vitest';
import { createDriverContext, runDriverConformance } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/elliptics/src/index.js';
import { EmulatorCluster } from './emulator.js';

let cluster: EmulatorCluster;
beforeAll(async () => {
  cluster = await new EmulatorCluster([{ groups: [1, 2, 3] }, { groups: [1, 2, 3] }, { groups: [1, 2, 3] }], { idsPerBackend: 2 }).start();
});
afterAll(async () => {
  await cluster.stop();
});

/** One instance; called twice, two instances on the same cluster. */
const create = () => createDriver({ nodes: cluster.remotes, groups: [1, 2, 3], waittimeout: 10 }, createDriverContext('elliptics'));

runDriverConformance({
  name: 'elliptics (3 emulated nodes, groups 1-3)',
  profile: 'ci',
  create,
  createPeer: create,
});
