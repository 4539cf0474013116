/** The driver conformance kit against the alioss driver on the OSS emulator, signing V1 and V4. */
import { afterAll, beforeAll } from 'vitest';
import { createDriver } from '../../plugins/alioss/src/index.js';
import { createDriverContext, runDriverConformance } from '../../src/testing/index.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

let emulator: OssEmulator;
beforeAll(async () => { emulator = await startOssEmulator({ buckets: ['kit-v1', 'kit-v4'] }); });
afterAll(async () => { await emulator.close(); });

/** One instance; called twice, two instances on the same bucket, as two registry processes have. */
const create = (signatureversion: 'v1' | 'v4') =>
  createDriver(
    {
      accesskeyid: emulator.accessKeyId, accesskeysecret: emulator.accessKeySecret, bucket: `kit-${signatureversion}`,
      region: `oss-${emulator.region}`, endpoint: `localhost:${emulator.port}`, secure: false, signatureversion,
      chunksize: 256 * 1024, retryinterval: 0.05,
    },
    createDriverContext('alioss'),
  );

for (const signatureversion of ['v1', 'v4'] as const) {
  runDriverConformance({
    name: `alioss on the OSS emulator (signature ${signatureversion}, 256 KiB parts)`,
    create: () => create(signatureversion),
    createPeer: () => create(signatureversion),
  });
}
