/**
 * storage.maintenance.readonly: every write route of the distribution API is refused, as distribution 2.8
 * refuses it (405 UNSUPPORTED), and storage is left exactly as it was. The routes are listed here from the
 * spec (OCI distribution spec, end-4a..end-11; docker registry API v2), not from stowage's guarded methods.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { createDriver } from '../../plugins/inmemory/src/index.js';
import { startRegistry, type RunningRegistry } from '../../src/embed.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';
import { storageSnapshot } from '../support/storage-snapshot.js';
import { OCI_MANIFEST, pushImage, sha256, startTestRegistry, type TestRegistry } from './support/registry.js';

describe('a read-only registry', () => {
  let writable: TestRegistry;
  let readOnly: RunningRegistry;
  let driver: StorageDriver;
  let manifestDigest: string;
  let layerDigest: string;
  let uploadPath: string;

  beforeAll(async () => {
    driver = createDriver({}, createDriverContext('inmemory')) as StorageDriver;
    writable = await startTestRegistry({ driver });
    const image = await pushImage(writable, 'lib/app', 'v1');
    manifestDigest = image.digest;
    layerDigest = (JSON.parse(image.manifest) as { layers: { digest: string }[] }).layers[0]!.digest;
    const started = await writable.send('POST', '/v2/lib/app/blobs/uploads/');
    uploadPath = new URL(started.headers.location!, writable.url).pathname;
    const chunk = await writable.send('PATCH', uploadPath, { body: 'half an upload', headers: { 'content-type': 'application/octet-stream' } });
    expect(chunk.status).toBe(202);
    readOnly = await startRegistry({ driver, deleteEnabled: true, readOnly: true });
  });
  afterAll(async () => {
    await readOnly?.close();
    await writable?.close();
  });

  const writeRoutes = (): { method: string; path: string; body?: string; headers?: Record<string, string> }[] => {
    const content = 'new content';
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: layerDigest, size: 1 }, layers: [] });
    return [
      { method: 'POST', path: '/v2/lib/app/blobs/uploads/' },
      { method: 'POST', path: '/v2/lib/new/blobs/uploads/' },
      { method: 'POST', path: `/v2/lib/app/blobs/uploads/?digest=${sha256(content)}`, body: content, headers: { 'content-type': 'application/octet-stream' } },
      { method: 'POST', path: `/v2/lib/other/blobs/uploads/?mount=${layerDigest}&from=lib/app` },
      { method: 'POST', path: `/v2/lib/other/blobs/uploads/?mount=${layerDigest}` },
      { method: 'PATCH', path: uploadPath, body: content, headers: { 'content-type': 'application/octet-stream' } },
      { method: 'PUT', path: `${uploadPath}?digest=${sha256(content)}`, body: content, headers: { 'content-type': 'application/octet-stream' } },
      { method: 'PUT', path: `${uploadPath}?digest=${sha256('half an upload')}` },
      { method: 'DELETE', path: uploadPath },
      { method: 'PUT', path: '/v2/lib/app/manifests/v2', body: manifest, headers: { 'content-type': OCI_MANIFEST } },
      { method: 'PUT', path: '/v2/lib/app/manifests/v1', body: manifest, headers: { 'content-type': OCI_MANIFEST } },
      { method: 'PUT', path: `/v2/lib/app/manifests/${sha256(manifest)}`, body: manifest, headers: { 'content-type': OCI_MANIFEST } },
      { method: 'DELETE', path: `/v2/lib/app/manifests/${manifestDigest}` },
      { method: 'DELETE', path: '/v2/lib/app/manifests/v1' },
      { method: 'DELETE', path: `/v2/lib/app/blobs/${layerDigest}` },
    ];
  };

  it('refuses every write route with 405 UNSUPPORTED and changes nothing in storage', async () => {
    const before = await storageSnapshot(driver);
    expect([...before.keys()].some((key) => key.endsWith('/data (upload)'))).toBe(true);
    for (const route of writeRoutes()) {
      const response = await request(`${readOnly.url}${route.path}`, { method: route.method as 'PUT', body: route.body, headers: route.headers ?? {} });
      const text = await response.body.text();
      expect({ route: `${route.method} ${route.path}`, status: response.statusCode }).toEqual({ route: `${route.method} ${route.path}`, status: 405 });
      expect((JSON.parse(text) as { errors: { code: string }[] }).errors[0]!.code).toBe('UNSUPPORTED');
      expect(await storageSnapshot(driver), `storage after ${route.method} ${route.path}`).toEqual(before);
    }
  });

  it('still serves every read', async () => {
    const reads = [
      { path: '/v2/lib/app/manifests/v1', headers: { accept: OCI_MANIFEST }, status: 200 },
      { path: `/v2/lib/app/blobs/${layerDigest}`, headers: {}, status: 200 },
      { path: uploadPath, headers: {}, status: 204 },
      { path: '/v2/lib/app/tags/list', headers: {}, status: 200 },
    ];
    for (const read of reads) {
      const response = await request(`${readOnly.url}${read.path}`, { headers: read.headers });
      await response.body.dump();
      expect({ path: read.path, status: response.statusCode }).toEqual({ path: read.path, status: read.status });
    }
  });
});
