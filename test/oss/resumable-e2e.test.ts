/**
 * A chunked blob upload begun on one registry (and driver) continues on a fresh one after a restart, with
 * the upload state only in the OSS emulator: the multipart upload, its parts and the saved tail.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/alioss/src/index.js';
import { describeResumableUpload } from '../support/resumable-e2e.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

let emulator: OssEmulator | undefined;
afterAll(async () => { await emulator?.close(); });

describeResumableUpload('alioss (OSS emulator, signature V1, 3 MiB parts)', async ({ port }) => {
  emulator ??= await startOssEmulator({ buckets: ['stowage'] });
  const driver = await createDriver(
    {
      accesskeyid: emulator.accessKeyId, accesskeysecret: emulator.accessKeySecret, bucket: 'stowage', region: `oss-${emulator.region}`,
      endpoint: `localhost:${emulator.port}`, secure: false, chunksize: 3 * 1024 * 1024,
    },
    createDriverContext('alioss'),
  );
  // The helper's pull does not follow redirects; the skopeo suite covers them.
  return startStowageOwningDriver(driver, { port, redirect: false });
});

describe('what the resumed upload did on the emulated OSS', () => {
  it('sent the parts of one multipart upload, numbered from 1, and left no upload or state behind', () => {
    const parts = (emulator?.requests ?? []).filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
    expect(parts.map((r) => new URL(r.url, 'http://x').searchParams.get('partNumber'))).toContain('1');
    expect(parts.every((r) => r.status === 200)).toBe(true);
    expect(emulator?.openUploads()).toBe(0);
    expect([...(emulator?.bucket('stowage').keys() ?? [])].filter((key) => key.includes('~'))).toEqual([]);
  });
});
