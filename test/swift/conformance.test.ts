/**
 * Both drivers pass the whole conformance kit against the real Swift: the quick profile in CI, the
 * full one (distribution's sizes, a 5 GiB stream) with STOWAGE_KIT_PROFILE=full.
 */
import { afterAll, beforeAll } from 'vitest';
import { createDriverContext, runDriverConformance } from '../../src/testing/index.js';
import { createDriver as createSwift } from '../../plugins/swift/src/index.js';
import { createDriver as createS3 } from '../../plugins/s3/src/index.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { s3Options, swiftOptions } from './drivers.js';

const full = process.env.STOWAGE_KIT_PROFILE === 'full';
// Swift allows 1000 segments an object: the full profile's 5 GiB stream needs bigger ones.
const MiB = 1024 * 1024;

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
});

afterAll(async () => {
  await release?.();
});

// Each run's options are made once (a fresh container or bucket), so create and createPeer build two
// instances on the same backend, as two registry processes have.
let swiftKitOptions: ReturnType<typeof swiftOptions> | undefined;
let s3KitOptions: ReturnType<typeof s3Options> | undefined;
const createSwiftKit = () =>
  createSwift(
    (swiftKitOptions ??= swiftOptions(endpoint, { chunksize: full ? 64 * MiB : MiB, secretkey: 'conformance-tempurl-key', prefix: '/kit' })),
    createDriverContext('swift'),
  );
const createS3Kit = () =>
  createS3((s3KitOptions ??= s3Options(endpoint, { chunksize: full ? 64 * MiB : 5 * MiB, rootdirectory: '/kit' })), createDriverContext('s3'));

runDriverConformance({
  name: 'swift (Swift 2.30 all-in-one, tempauth, TempURL redirects, object prefix)',
  create: createSwiftKit,
  createPeer: createSwiftKit,
});

runDriverConformance({
  name: 's3 (Swift 2.30 s3api, path style, root directory)',
  create: createS3Kit,
  createPeer: createS3Kit,
});
