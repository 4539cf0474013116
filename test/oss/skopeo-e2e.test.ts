/** The skopeo end-to-end suite against stowage on the alioss driver, over the OSS emulator (V4 signing, redirects on). */
import { describe, expect, it } from 'vitest';
import { driverErrors } from '../../src/index.js';
import { createDriver } from '../../plugins/alioss/src/index.js';
import { describeSkopeoE2E } from '../support/skopeo-e2e.js';
import { startStowageWithDriver } from '../support/stowage.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

let emulator: OssEmulator | undefined;

describeSkopeoE2E('alioss (OSS emulator, signature V4, 100 KiB parts)', async () => {
  emulator = await startOssEmulator({ buckets: ['stowage'] });
  const driver = await createDriver(
    {
      accesskeyid: emulator.accessKeyId, accesskeysecret: emulator.accessKeySecret, bucket: 'stowage', region: `oss-${emulator.region}`,
      endpoint: `localhost:${emulator.port}`, secure: false, signatureversion: 'v4', chunksize: 100 * 1024, rootdirectory: '/registry',
    },
    { logger: quietLogger, errors: driverErrors('alioss'), baseDir: process.cwd() },
  );
  const registry = await startStowageWithDriver(driver);
  return {
    ...registry,
    async close() {
      await registry.close();
      await driver.close?.();
      await emulator?.close();
    },
  };
});

describe('what the skopeo run did on the emulated service', () => {
  it('uploaded the larger layers as multipart uploads, served blobs through presigned redirects, and left no upload or upload state behind', () => {
    const requests = emulator?.requests ?? [];
    expect(requests.filter((r) => r.method === 'POST' && r.url.includes('?uploads')).length).toBeGreaterThan(0);
    expect(requests.filter((r) => r.method === 'GET' && r.url.includes('x-oss-signature=') && r.status === 200).length).toBeGreaterThan(0);
    expect(emulator?.openUploads()).toBe(0);
    expect([...(emulator?.bucket('stowage').keys() ?? [])].filter((key) => key.includes('~'))).toEqual([]);
  });
});
