/** The garbage collector on the swift and s3 drivers, against the real Swift all-in-one (s3 through its s3api). */
import { afterAll, beforeAll } from 'vitest';
import { describeGcOnDriver } from '../gc/driver-matrix.js';
import { s3Driver, swiftDriver } from './drivers.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';

let endpoint: SwiftEndpoint;
let release: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
}, 900_000);
afterAll(async () => {
  await release?.();
});

describeGcOnDriver('swift (Swift all-in-one)', () => swiftDriver(endpoint));
describeGcOnDriver('s3 (Swift all-in-one s3api)', () => s3Driver(endpoint));
