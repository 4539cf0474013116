/**
 * Upload sessions with self-proving ids (src/registry/upload-tokens.ts): a POST writes nothing, a session closed by
 * its first request never has a folder, and still every id that was not issued here, or whose session was
 * cancelled, finished, purged or has expired, is unknown (BLOB_UPLOAD_UNKNOWN) to every process sharing the storage.
 */
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/index.js';
import { UploadTokens, TOKEN_LIFETIME_MS } from '../../src/registry/upload-tokens.js';
import { UploadSessionsState } from '../../src/registry/uploads.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { storedPaths } from '../support/storage-snapshot.js';
import { inMemoryDriver, sha256 } from '../http/support/registry.js';

const bytes = (value: string): AsyncIterable<Uint8Array> =>
  (async function* () {
    yield Buffer.from(value);
  })();

/** A registry on `driver` as another process would have it: its own sessions state, its own clock. */
const serverOn = (driver: StorageDriver, now: () => number = Date.now): Registry =>
  new Registry({ driver, deleteEnabled: true }, new UploadSessionsState(undefined, new UploadTokens(now)));

/** Every request a client can make on an upload location, each answering BLOB_UPLOAD_UNKNOWN. */
async function expectUnknown(registry: Registry, name: string, id: string): Promise<void> {
  const unknown = { code: 'BLOB_UPLOAD_UNKNOWN' };
  await expect(registry.uploadStatus(name, id)).rejects.toMatchObject(unknown);
  await expect(registry.appendUpload(name, id, bytes('more'))).rejects.toMatchObject(unknown);
  await expect(registry.finishUpload(name, id, sha256('more'), bytes('more'))).rejects.toMatchObject(unknown);
  await expect(registry.cancelUpload(name, id)).rejects.toMatchObject(unknown);
}

/** `id` with its last character changed: the MAC no longer matches. */
const tampered = (id: string): string => `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;

describe('upload sessions with self-proving ids', () => {
  it('a POST writes nothing to storage but its signing key once, and a small push never makes a session folder', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = serverOn(driver);
    const first = await registry.startUpload('app');
    const keys = await storedPaths(driver);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^\/_stowage\/uploads\/keys\/[A-Za-z0-9_-]{8}$/);
    await registry.startUpload('app');
    expect(await storedPaths(driver)).toEqual(keys);
    await registry.finishUpload('app', first.id, sha256('small'), bytes('small'));
    expect((await storedPaths(driver)).filter((path) => path.includes('_uploads'))).toEqual([]);
  });

  it('refuses a forged id, one issued for another repository, and one signed by a key this storage does not hold', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = serverOn(driver);
    const { id } = await registry.startUpload('app');
    await expectUnknown(registry, 'app', tampered(id));
    await expectUnknown(registry, 'other', id);
    const elsewhere = await serverOn(wrapDriver(inMemoryDriver())).startUpload('app');
    await expectUnknown(registry, 'app', elsewhere.id);
    // none of the refusals made a session of the id: the genuine one still works
    await expect(registry.finishUpload('app', id, sha256('kept'), bytes('kept'))).resolves.toMatchObject({ digest: sha256('kept') });
  });

  it('a session started by one process is continued and finished by another sharing the storage', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const one = serverOn(driver);
    const two = serverOn(driver);
    const small = await one.startUpload('app');
    expect((await two.uploadStatus('app', small.id)).size).toBe(0);
    await expect(two.finishUpload('app', small.id, sha256('small'), bytes('small'))).resolves.toMatchObject({ size: 5 });
    const chunked = await one.startUpload('app');
    await one.appendUpload('app', chunked.id, bytes('chun'), { start: 0, end: 3 });
    await two.appendUpload('app', chunked.id, bytes('ked'), { start: 4, end: 6 });
    expect((await one.uploadStatus('app', chunked.id)).size).toBe(7);
    await expect(one.finishUpload('app', chunked.id, sha256('chunked'))).resolves.toMatchObject({ size: 7 });
    expect((await storedPaths(driver)).filter((path) => path.includes('_uploads'))).toEqual([]);
  });

  it('a cancelled session is unknown to every process, before and after it received data', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const one = serverOn(driver);
    const empty = await one.startUpload('app');
    const written = await one.startUpload('app');
    await one.appendUpload('app', written.id, bytes('partial'));
    await one.cancelUpload('app', empty.id);
    await one.cancelUpload('app', written.id);
    for (const registry of [one, serverOn(driver)]) {
      await expectUnknown(registry, 'app', empty.id);
      await expectUnknown(registry, 'app', written.id);
    }
    // what it received is gone; what is kept is a record under a hash of the id, outside distribution's layout
    const stored = await storedPaths(driver);
    expect(stored.filter((path) => path.includes('_uploads') || path.includes(written.id))).toEqual([]);
    expect(stored.filter((path) => path.startsWith('/_stowage/uploads/closed/'))).toHaveLength(2);
  });

  it('a finished session is unknown to the process that finished it, whatever the blob', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = serverOn(driver);
    const small = await registry.startUpload('app');
    await registry.finishUpload('app', small.id, sha256('small'), bytes('small'));
    await expectUnknown(registry, 'app', small.id);
    const refused = await registry.startUpload('app');
    await expect(registry.finishUpload('app', refused.id, sha256('other'), bytes('small'))).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
    await expectUnknown(registry, 'app', refused.id);
    const chunked = await registry.startUpload('app');
    await registry.appendUpload('app', chunked.id, bytes('chunked'));
    await registry.finishUpload('app', chunked.id, sha256('chunked'));
    await expectUnknown(registry, 'app', chunked.id);
  });

  it('an id is unknown once older than its lifetime, and purging keeps a record only while its id is valid', async () => {
    const driver = wrapDriver(inMemoryDriver());
    let now = Date.now();
    const registry = serverOn(driver, () => now);
    const open = await registry.startUpload('app');
    const cancelled = await registry.startUpload('app');
    await registry.cancelUpload('app', cancelled.id);
    const purged = await registry.startUpload('app');
    await registry.appendUpload('app', purged.id, bytes('abandoned'));

    // a purge with an age shorter than the ids' lifetime: the session's folder goes, its id stays unknown
    const done = await registry.purgeUploads(new Date(Date.now() + 1000));
    expect(done.purged).toEqual([`app/${purged.id}`]);
    await expectUnknown(serverOn(driver, () => now), 'app', purged.id);
    await expectUnknown(serverOn(driver, () => now), 'app', cancelled.id);
    expect((await registry.uploadStatus('app', open.id)).size).toBe(0);
    const records = (await storedPaths(driver)).filter((path) => path.startsWith('/_stowage/uploads/closed/'));
    expect(records).toHaveLength(2);

    now += TOKEN_LIFETIME_MS + 2000;
    await expectUnknown(registry, 'app', open.id);
    await registry.purgeUploads(new Date(now - 3600_000));
    expect((await storedPaths(driver)).filter((path) => path.startsWith('/_stowage/uploads/closed/'))).toEqual([]);
    await expectUnknown(serverOn(driver, () => now), 'app', cancelled.id);
  });
});
