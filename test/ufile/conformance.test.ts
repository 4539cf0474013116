/** The driver conformance kit against the ufile driver on the UFile emulator. */
import { afterAll, beforeAll } from 'vitest';
import { createDriver } from '../../plugins/ufile/src/index.js';
import { createDriverContext, runDriverConformance } from '../../src/testing/index.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

let emulator: UFileEmulator;
// A 1 MiB BlkSize, so the kit's quick-profile streams (5 MiB) and appends go through multipart parts.
beforeAll(async () => { emulator = await startUFileEmulator({ buckets: ['kit'], blkSize: 1024 * 1024 }); });
afterAll(async () => { await emulator.close(); });

/** One instance; called twice, two instances on the same bucket, as two registry processes have. */
const create = () =>
  createDriver(
    { baseurl: emulator.url, bucket: 'kit', publickey: emulator.publicKey, privatekey: emulator.privateKey, retryinterval: 0.05 },
    createDriverContext('ufile'),
  );

runDriverConformance({
  name: 'ufile on the UFile emulator (1 MiB BlkSize)',
  create,
  createPeer: create,
});
