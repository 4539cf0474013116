/**
 * A chunked blob upload begun on one registry (and driver) continues on a fresh one after a restart, with
 * the upload state only in the UFile emulator: the multipart upload, its BlkSize parts and the saved tail.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../src/testing/index.js';
import { createDriver } from '../../plugins/ufile/src/index.js';
import { describeResumableUpload } from '../support/resumable-e2e.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

let emulator: UFileEmulator | undefined;
afterAll(async () => { await emulator?.close(); });

describeResumableUpload('ufile (UFile emulator, 4 MiB BlkSize)', async ({ port }) => {
  emulator ??= await startUFileEmulator({ buckets: ['stowage'] });
  const driver = await createDriver(
    { baseurl: emulator.url, bucket: 'stowage', publickey: emulator.publicKey, privatekey: emulator.privateKey, rootdirectory: 'registry' },
    createDriverContext('ufile'),
  );
  // The helper's pull does not follow redirects; the skopeo suite covers them.
  return startStowageOwningDriver(driver, { port, redirect: false });
});

describe('what the resumed upload did on the emulated UFile', () => {
  it('sent 0-based BlkSize parts of one multipart upload and left no upload or state behind', () => {
    const parts = (emulator?.requests ?? []).filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
    expect(parts.map((r) => new URL(r.url, 'http://x').searchParams.get('partNumber')).filter((n) => n === '0').length).toBeGreaterThan(0);
    expect(parts.every((r) => r.status === 200)).toBe(true);
    expect(emulator?.openUploads()).toBe(0);
    expect([...(emulator?.bucket('stowage').keys() ?? [])].filter((key) => key.includes('~'))).toEqual([]);
  });
});
