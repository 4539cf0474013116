import { describe, expect, it } from 'vitest';
import { Registry, RegistryError } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { storedPaths } from '../support/storage-snapshot.js';
import { inMemoryDriver } from '../http/support/registry.js';
import { sha256 } from '../http/support/registry.js';

const bytes = (value: string): AsyncIterable<Uint8Array> => (async function* () {
  yield Buffer.from(value);
})();

describe('upload purging', () => {
  it('removes sessions started before the cut-off (and those without startedat), keeps newer ones', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true });
    const fresh = await registry.startUpload('team/app');
    const old = await registry.startUpload('team/app');
    const other = await registry.startUpload('solo');
    await registry.appendUpload('team/app', old.id, bytes('stale'));
    // a session's folder is made by its first data (src/registry/upload-tokens.ts)
    await registry.appendUpload('solo', other.id, bytes('orphan'));
    const uploads = '/docker/registry/v2/repositories';
    await driver.putContent(`${uploads}/team/app/_uploads/${old.id}/startedat`, Buffer.from('2020-01-01T00:00:00Z'));
    await driver.delete(`${uploads}/solo/_uploads/${other.id}/startedat`);
    await driver.putContent(`${uploads}/solo/_uploads/${other.id}/data`, Buffer.from('orphan'));

    const dry = await registry.purgeUploads(new Date(Date.now() - 60_000), true);
    expect(dry.purged.sort()).toEqual([`solo/${other.id}`, `team/app/${old.id}`].sort());
    expect((await registry.uploadStatus('team/app', old.id)).size).toBe(5);

    const done = await registry.purgeUploads(new Date(Date.now() - 60_000));
    expect(done.purged.sort()).toEqual(dry.purged.sort());
    await expect(registry.uploadStatus('team/app', old.id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    expect((await storedPaths(driver)).some((path) => path.includes(other.id))).toBe(false);
    expect((await registry.uploadStatus('team/app', fresh.id)).size).toBe(0);
  });
});

describe('read-only mode', () => {
  it('refuses every write with UNSUPPORTED and still serves reads', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const writable = new Registry({ driver, deleteEnabled: true });
    const upload = await writable.startUpload('app');
    await writable.finishUpload('app', upload.id, sha256('kept'), bytes('kept'));
    const open = await writable.startUpload('app');
    const readOnly = new Registry({ driver, deleteEnabled: true, readOnly: true });
    const refusals: Promise<unknown>[] = [
      readOnly.startUpload('app'),
      readOnly.putManifest('app', 'v1', Buffer.from('{}'), undefined),
      readOnly.deleteBlob('app', sha256('kept')),
      readOnly.deleteManifest('app', 'v1'),
      readOnly.mountBlob('other', sha256('kept'), 'app'),
      readOnly.cancelUpload('app', open.id),
    ];
    for (const refusal of refusals) {
      await expect(refusal).rejects.toBeInstanceOf(RegistryError);
      await expect(refusal).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    }
    expect(await readOnly.statBlob('app', sha256('kept'))).toEqual({ digest: sha256('kept'), size: 4 });
  });
});
