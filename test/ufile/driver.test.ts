/** The ufile driver against the UFile emulator. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverErrors, type DriverContext, type StorageDriver } from '../../src/index.js';
import { createDriver, type UFileOptions } from '../../plugins/ufile/src/index.js';
import { describeObjectDriverCases } from '../oss/object-driver-cases.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

/** UFile's usual BlkSize: the driver buffers towards it before the first upload tells it the real one. */
const BLK = 4 * 1024 * 1024;
let emulator: UFileEmulator;
beforeAll(async () => { emulator = await startUFileEmulator({ buckets: ['stowage'], blkSize: BLK }); });
afterAll(async () => { await emulator.close(); });

const logged: string[] = [];
const context: DriverContext = {
  logger: {
    debug: (o, m) => void logged.push(JSON.stringify([o, m])), info: (o, m) => void logged.push(JSON.stringify([o, m])),
    warn: (o, m) => void logged.push(JSON.stringify([o, m])), error: (o, m) => void logged.push(JSON.stringify([o, m])),
  },
  errors: driverErrors('ufile'),
  baseDir: process.cwd(),
};

export function ufileOptions(e: UFileEmulator, overrides: Record<string, unknown> = {}): UFileOptions {
  return { baseurl: `http://stowage.localhost:${e.port}`, publickey: e.publicKey, privatekey: e.privateKey, retryinterval: 0.05, ...overrides } as UFileOptions;
}

describeObjectDriverCases(
  'ufile',
  () => ({
    faults: emulator.faults,
    requests: emulator.requests,
    openUploads: () => emulator.openUploads(),
    keys: () => [...emulator.bucket('stowage').keys()],
  }),
  // By IP address with the bucket named: presigned URLs then work for any client (bkt.localhost may not resolve).
  async (overrides = {}): Promise<StorageDriver> =>
    createDriver(ufileOptions(emulator, { baseurl: emulator.url, bucket: 'stowage', rootdirectory: 'reg', ...overrides }), context),
  BLK,
);

describe('ufile driver specifics', () => {
  it('reports a wrong private key as the service does, without the key', async () => {
    const driver = await createDriver(ufileOptions(emulator, { privatekey: 'a-wrong-private-key', retries: 0 }), context);
    const error = await driver.putContent('/x', Buffer.from('x')).catch((err: Error) => err);
    // UFile's RetCode for a bad signature; its ErrMsg text is never quoted (a backend may echo the request)
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining('RetCode -148653') });
    expect((error as Error).message).not.toContain('a-wrong-private-key');
    expect(logged.join('\n')).not.toContain(emulator.privateKey);
    await driver.close?.();
  });

  it('reaches a bucket host under localhost (the seed-style baseurl) on the loopback address', async () => {
    const driver = await createDriver(ufileOptions(emulator), context);
    await driver.putContent('/by-name', Buffer.from('named'));
    expect(Buffer.from(await driver.getContent('/by-name')).toString()).toBe('named');
    expect(emulator.bucket('stowage').has('by-name')).toBe(true);
    await driver.close?.();
  });

  it('reads from an offset even when the server ignores the Range header and sends the whole object', async () => {
    const ignoring = await startUFileEmulator({ buckets: ['stowage'], ignoreRanges: true });
    try {
      const driver = await createDriver(ufileOptions(ignoring, { baseurl: ignoring.url, bucket: 'stowage' }), context);
      await driver.putContent('/r', Buffer.from('0123456789'));
      const chunks: Buffer[] = [];
      for await (const chunk of await driver.reader('/r', 3)) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('3456789');
      await expect(driver.reader('/r', 11)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
      expect((await driver.reader('/r', 10)).read()).toBeNull();
      await driver.close?.();
    } finally {
      await ignoring.close();
    }
  });

  it('takes the bucket from the bucket option when baseurl is an IP address', async () => {
    const driver = await createDriver(ufileOptions(emulator, { baseurl: emulator.url, bucket: 'stowage' }), context);
    await driver.putContent('/by-ip', Buffer.from('ip'));
    expect(emulator.bucket('stowage').get('by-ip')?.data.toString()).toBe('ip');
    await driver.close?.();
    expect(() => createDriver(ufileOptions(emulator, { baseurl: emulator.url }), context)).toThrow(/bucket/);
  });

  it('moves large blobs by streaming them through BlkSize parts (UFile has no copy)', async () => {
    const driver = await createDriver(ufileOptions(emulator), context);
    const big = Buffer.alloc(BLK * 2 + 99, 7);
    const writer = await driver.writer('/mv/src', false);
    await writer.write(big);
    await writer.commit();
    await writer.close();
    await driver.move('/mv/src', '/mv/dst');
    expect(Buffer.compare(Buffer.from(await driver.getContent('/mv/dst')), big)).toBe(0);
    await expect(driver.stat('/mv/src')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await driver.close?.();
  });
});
