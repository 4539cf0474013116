/** The alioss driver against the OSS emulator, signing V1 and V4. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverErrors, type DriverContext, type StorageDriver } from '../../src/index.js';
import { createDriver, type AliOssOptions } from '../../plugins/alioss/src/index.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';
import { describeObjectDriverCases } from './object-driver-cases.js';

const PART = 100 * 1024;
let emulator: OssEmulator;
beforeAll(async () => { emulator = await startOssEmulator({ buckets: ['stowage'] }); });
afterAll(async () => { await emulator.close(); });

const logged: string[] = [];
const context: DriverContext = {
  logger: {
    debug: (o, m) => void logged.push(JSON.stringify([o, m])), info: (o, m) => void logged.push(JSON.stringify([o, m])),
    warn: (o, m) => void logged.push(JSON.stringify([o, m])), error: (o, m) => void logged.push(JSON.stringify([o, m])),
  },
  errors: driverErrors('alioss'),
  baseDir: process.cwd(),
};

export function ossOptions(e: OssEmulator, overrides: Record<string, unknown> = {}): AliOssOptions {
  return {
    accesskeyid: e.accessKeyId, accesskeysecret: e.accessKeySecret, bucket: 'stowage', region: `oss-${e.region}`,
    endpoint: `localhost:${e.port}`, secure: false, chunksize: PART, retryinterval: 0.05, ...overrides,
  } as AliOssOptions;
}

for (const signatureversion of ['v1', 'v4'] as const) {
  describeObjectDriverCases(
    `alioss (${signatureversion})`,
    () => ({
      faults: emulator.faults,
      requests: emulator.requests,
      openUploads: () => emulator.openUploads(),
      keys: () => [...emulator.bucket('stowage').keys()],
    }),
    async (overrides = {}): Promise<StorageDriver> => createDriver(ossOptions(emulator, { signatureversion, rootdirectory: `/root-${signatureversion}/`, ...overrides }), context),
    PART,
  );
}

describe('alioss driver errors', () => {
  it('reports a wrong secret as the service does, without the secret', async () => {
    const driver = await createDriver(ossOptions(emulator, { accesskeysecret: 'a-wrong-secret-value', retries: 0 }), context);
    const error = await driver.putContent('/x', Buffer.from('x')).catch((err: Error) => err);
    expect(error).toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining('SignatureDoesNotMatch') });
    expect((error as Error).message).not.toContain('a-wrong-secret-value');
    expect(logged.join('\n')).not.toContain(emulator.accessKeySecret);
    await driver.close?.();
  });

  it('asks OSS to encrypt every object it writes when encrypt is on, single PUT and multipart alike', async () => {
    const driver = await createDriver(ossOptions(emulator, { encrypt: true, rootdirectory: 'encrypted' }), context);
    await driver.putContent('/small', Buffer.from('x'));
    const writer = await driver.writer('/large', false);
    await writer.write(Buffer.alloc(PART * 2 + 1, 1));
    await writer.commit();
    await writer.close();
    const objects = emulator.bucket('stowage');
    expect(objects.get('encrypted/small')?.encryption).toBe('AES256');
    expect(objects.get('encrypted/large')).toMatchObject({ type: 'Multipart', encryption: 'AES256' });
    await driver.close?.();
  });

  it('puts the store under rootdirectory, leading slash dropped as the seed did', async () => {
    const driver = await createDriver(ossOptions(emulator, { rootdirectory: '/devregistry/' }), context);
    await driver.putContent('/docker/registry/v2/x', Buffer.from('x'));
    expect(emulator.bucket('stowage').has('devregistry/docker/registry/v2/x')).toBe(true);
    await driver.close?.();
  });
});
