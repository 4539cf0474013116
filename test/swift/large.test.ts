/**
 * The full profile's scale checks (STOWAGE_KIT_PROFILE=full): an object larger than Swift's 5 GB
 * single-object limit through each driver, and a listing and recursive delete past Swift's 10,000
 * names a request. They take minutes, so the quick (CI) profile runs the same code paths at small
 * scale in swift-driver.test.ts and s3-driver.test.ts instead.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { containerOf, s3Driver, swiftDriver } from './drivers.js';

const full = process.env.STOWAGE_KIT_PROFILE === 'full';
const SIZE = 5.5 * 1024 ** 3;

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;

beforeAll(async () => {
  if (full) ({ endpoint, release } = await acquireSwift());
}, 600_000);

afterAll(async () => {
  await release?.();
});

/** Deterministic bytes from a counter: the same stream can be produced again to compare. */
function* pattern(total: number, block = 8 << 20): Generator<Buffer> {
  const buffer = Buffer.alloc(block);
  for (let offset = 0, n = 0; offset < total; offset += block, n++) {
    const length = Math.min(block, total - offset);
    buffer.fill(n % 251);
    buffer.writeUInt32BE(n, 0);
    yield buffer.subarray(0, length);
  }
}

function digestOfPattern(total: number): string {
  const hash = createHash('sha256');
  for (const block of pattern(total)) hash.update(block);
  return hash.digest('hex');
}

async function writeAndCheck(driver: StorageDriver): Promise<void> {
  const writer = await driver.writer('/large/blob', false);
  for (const block of pattern(SIZE)) await writer.write(block);
  await writer.commit();
  await writer.close();
  expect((await driver.stat('/large/blob')).size).toBe(SIZE);
  const hash = createHash('sha256');
  for await (const chunk of await driver.reader('/large/blob', 0)) hash.update(chunk as Buffer);
  expect(hash.digest('hex')).toBe(digestOfPattern(SIZE));
  const tail = createHash('sha256');
  let tailBytes = 0;
  for await (const chunk of await driver.reader('/large/blob', SIZE - 1000)) {
    tail.update(chunk as Buffer);
    tailBytes += (chunk as Buffer).length;
  }
  expect(tailBytes).toBe(1000);
  await driver.delete('/large');
}

describe.runIf(full)('objects and listings beyond Swift single-request limits', () => {
  it('streams a 5.5 GiB object through the swift driver as SLO segments and reads it back intact', async () => {
    // 2 MiB segments would need 2816 of them; growing segments keep it under Swift's 1000
    const driver = await swiftDriver(endpoint, { chunksize: 2 << 20 });
    try {
      await writeAndCheck(driver);
    } finally {
      await driver.close?.();
    }
  }, 3_600_000);

  it('streams a 5.5 GiB object through the s3 driver as a multipart upload and reads it back intact', async () => {
    // 5 MiB parts would need 1127 of them; growing parts keep it under the s3api's 1000
    const driver = await s3Driver(endpoint, { chunksize: 5 << 20 });
    try {
      await writeAndCheck(driver);
    } finally {
      await driver.close?.();
    }
  }, 3_600_000);

  it('lists and deletes a directory of more than 10,000 names through the swift driver', async () => {
    const driver = await swiftDriver(endpoint);
    const container = containerOf(driver);
    try {
      // one extract-archive request creates them all far faster than 10,050 PUTs
      const names = Array.from({ length: 10_050 }, (_, i) => `files/many/f${String(i).padStart(5, '0')}`);
      const tar = tarOfEmptyFiles(names);
      const auth = await request(endpoint.authUrl, { headers: { 'x-auth-user': endpoint.user, 'x-auth-key': endpoint.key } });
      await auth.body.dump();
      const created = await request(`${endpoint.storageUrl}/${container}?extract-archive=tar`, {
        method: 'PUT',
        headers: { 'x-auth-token': String(auth.headers['x-auth-token']), accept: 'application/json' },
        body: tar,
      });
      expect(((await created.body.json()) as { 'Number Files Created': number })['Number Files Created']).toBe(names.length);
      const listed = await driver.list('/many');
      expect(listed.length).toBe(names.length);
      expect(new Set(listed).size).toBe(names.length);
      await driver.delete('/many');
      await expect(driver.list('/many')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    } finally {
      await driver.close?.();
    }
  }, 1_800_000);
});

/** A ustar archive of empty regular files. */
function tarOfEmptyFiles(names: string[]): Buffer {
  const blocks: Buffer[] = [];
  for (const name of names) {
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write('00000000000\0', 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\u000000', 257, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    blocks.push(header);
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
