import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { storageSnapshot, storedPaths } from '../support/storage-snapshot.js';
import { inMemoryDriver } from '../http/support/registry.js';
import { sha256 } from '../http/support/registry.js';

const text = async (driver: StorageDriver, path: string): Promise<string> => Buffer.from(await driver.getContent(path)).toString('utf8');
const bytes = (value: string): AsyncIterable<Uint8Array> => (async function* () {
  yield Buffer.from(value);
})();
const hexOf = (digest: string): string => digest.slice('sha256:'.length);

describe("the storage layout is distribution's, byte for byte", () => {
  it('an uploaded blob lands at blobs/sha256/<2>/<hex>/data with a _layers link holding just the digest', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true });
    const digest = sha256('layer bytes');
    const upload = await registry.startUpload('lib/app');
    await registry.finishUpload('lib/app', upload.id, digest, bytes('layer bytes'));
    const hex = hexOf(digest);
    expect(await text(driver, `/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`)).toBe('layer bytes');
    expect(await text(driver, `/docker/registry/v2/repositories/lib/app/_layers/sha256/${hex}/link`)).toBe(digest);
    expect((await storedPaths(driver)).some((path) => path.includes('_uploads'))).toBe(false);
  });

  it('an open session has _uploads/<id>/startedat in RFC 3339 UTC and its data, and no hashstates', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true });
    const upload = await registry.startUpload('lib/app');
    await registry.appendUpload('lib/app', upload.id, bytes('partial'));
    const startedAt = await text(driver, `/docker/registry/v2/repositories/lib/app/_uploads/${upload.id}/startedat`);
    expect(startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Math.abs(Date.parse(startedAt) - Date.now())).toBeLessThan(5_000);
    expect(await driver.uploadSize(`/docker/registry/v2/repositories/lib/app/_uploads/${upload.id}/data`)).toBe('partial'.length);
    expect([...(await storageSnapshot(driver)).keys()].some((path) => path.includes('hashstates'))).toBe(false);
  });

  it('a tagged manifest writes the blob, the revision link, the tag index link and the current link', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true });
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    const pushed = await registry.putManifest('lib/app', 'v1', Buffer.from(manifest), 'application/vnd.oci.image.index.v1+json');
    const hex = hexOf(pushed.digest);
    const repo = '/docker/registry/v2/repositories/lib/app/_manifests';
    expect(await text(driver, `/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`)).toBe(manifest);
    expect(await text(driver, `${repo}/revisions/sha256/${hex}/link`)).toBe(pushed.digest);
    expect(await text(driver, `${repo}/tags/v1/index/sha256/${hex}/link`)).toBe(pushed.digest);
    expect(await text(driver, `${repo}/tags/v1/current/link`)).toBe(pushed.digest);
  });

  it('a referrer is indexed under _manifests/referrers/<alg>/<subject hex>/<alg>/<hex>/link (stowage extension)', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true });
    const subject = sha256('subject');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 7 },
    });
    const pushed = await registry.putManifest('lib/app', sha256(manifest), Buffer.from(manifest), undefined);
    expect(pushed.subject).toBe(subject);
    expect(await text(driver, `/docker/registry/v2/repositories/lib/app/_manifests/referrers/sha256/${hexOf(subject)}/sha256/${hexOf(pushed.digest)}/link`)).toBe(pushed.digest);
  });

  it('rootDirectory moves the whole tree', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const registry = new Registry({ driver, deleteEnabled: true, rootDirectory: '/srv/registry' });
    const upload = await registry.startUpload('app');
    await registry.finishUpload('app', upload.id, sha256('x'), bytes('x'));
    // distribution's tree, and beside it stowage's own objects (here the key upload ids are signed with)
    expect((await storedPaths(driver)).every((path) => path.startsWith('/srv/registry/docker/registry/v2/') || path.startsWith('/srv/registry/_stowage/'))).toBe(true);
    expect((await storedPaths(driver)).some((path) => path.startsWith('/srv/registry/docker/registry/v2/blobs/'))).toBe(true);
  });

  it('a tree as distribution writes it (links without newline, tag index) is served: blobs, tags, manifests, catalog', async () => {
    const driver = wrapDriver(inMemoryDriver());
    const layer = 'distribution layer';
    const layerDigest = sha256(layer);
    const manifest = `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"${sha256('{}')}"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":${layer.length},"digest":"${layerDigest}"}]}`;
    const manifestDigest = sha256(manifest);
    const root = '/docker/registry/v2';
    const put = (path: string, content: string) => driver.putContent(`${root}${path}`, Buffer.from(content));
    for (const [digest, content] of [
      [layerDigest, layer],
      [sha256('{}'), '{}'],
      [manifestDigest, manifest],
    ] as const) {
      await put(`/blobs/sha256/${hexOf(digest).slice(0, 2)}/${hexOf(digest)}/data`, content);
    }
    await put(`/repositories/library/hello/_layers/sha256/${hexOf(layerDigest)}/link`, layerDigest);
    await put(`/repositories/library/hello/_layers/sha256/${hexOf(sha256('{}'))}/link`, sha256('{}'));
    await put(`/repositories/library/hello/_manifests/revisions/sha256/${hexOf(manifestDigest)}/link`, manifestDigest);
    await put(`/repositories/library/hello/_manifests/tags/latest/current/link`, manifestDigest);
    await put(`/repositories/library/hello/_manifests/tags/latest/index/sha256/${hexOf(manifestDigest)}/link`, manifestDigest);
    await put(`/repositories/library/hello/_uploads/4a2ae5d6-0000-4000-8000-000000000000/startedat`, '2024-01-01T00:00:00Z');

    const registry = new Registry({ driver, deleteEnabled: true });
    const got = await registry.getManifest('library/hello', 'latest');
    expect(Buffer.from(got.content).toString()).toBe(manifest);
    expect(got.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(await registry.statBlob('library/hello', layerDigest)).toEqual({ digest: layerDigest, size: layer.length });
    expect((await registry.listTags('library/hello', {})).entries).toEqual(['latest']);
    expect((await registry.catalog({})).entries).toEqual(['library/hello']);
    // a session distribution opened (startedat, no data yet) continues here
    const status = await registry.uploadStatus('library/hello', '4a2ae5d6-0000-4000-8000-000000000000');
    expect(status.size).toBe(0);
    const blob = await registry.finishUpload('library/hello', '4a2ae5d6-0000-4000-8000-000000000000', sha256('resumed'), bytes('resumed'));
    expect(blob.size).toBe(7);
  });
});
