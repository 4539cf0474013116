import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { decorate } from '../support/driver-decorator.js';
import { inMemoryDriver, pushBlob, sha256, startTestRegistry, type TestRegistry } from './support/registry.js';

describe('blobs: GET, HEAD, ranges and DELETE', () => {
  let registry: TestRegistry;
  const content = Buffer.from(Array.from({ length: 200_000 }, (_, i) => i % 251));
  let digest: string;

  beforeAll(async () => {
    registry = await startTestRegistry();
    digest = await pushBlob(registry, 'blobs/repo', content);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('GET streams the blob with its digest, length and type', async () => {
    const response = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(Buffer.compare(response.body, content)).toBe(0);
    expect(response.headers['docker-content-digest']).toBe(digest);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.headers.etag).toBe(`"${digest}"`);
  });

  it('HEAD answers the same headers and no body', async () => {
    const response = await registry.send('HEAD', `/v2/blobs/repo/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
    expect(response.headers['content-length']).toBe(String(content.length));
    expect(response.headers['docker-content-digest']).toBe(digest);
  });

  it('If-None-Match with the ETag answers 304 without a body', async () => {
    const response = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { 'if-none-match': `"${digest}"` } });
    expect(response.status).toBe(304);
    expect(response.body.length).toBe(0);
    const other = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { 'if-none-match': '"sha256:other"' } });
    expect(other.status).toBe(200);
  });

  it('a Range GET answers 206 with exactly the bytes asked for and Content-Range', async () => {
    const response = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range: 'bytes=70000-140001' } });
    expect(response.status).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes 70000-140001/${content.length}`);
    expect(Buffer.compare(response.body, content.subarray(70000, 140002))).toBe(0);
  });

  it('open-ended and suffix ranges are served', async () => {
    const tail = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range: 'bytes=199990-' } });
    expect(tail.status).toBe(206);
    expect(Buffer.compare(tail.body, content.subarray(199990))).toBe(0);
    const suffix = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range: 'bytes=-5' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers['content-range']).toBe(`bytes 199995-199999/${content.length}`);
    expect(Buffer.compare(suffix.body, content.subarray(199995))).toBe(0);
  });

  it('an unsatisfiable range answers 416 with the blob size', async () => {
    const response = await registry.send('GET', `/v2/blobs/repo/blobs/${digest}`, { headers: { range: `bytes=${content.length}-` } });
    expect(response.status).toBe(416);
    expect(response.headers['content-range']).toBe(`bytes */${content.length}`);
    expect(response.json()).toMatchObject({ errors: [{ code: 'RANGE_INVALID' }] });
  });

  it('an unknown blob answers 404 BLOB_UNKNOWN on GET and 404 on HEAD', async () => {
    const unknown = sha256('never pushed');
    const get = await registry.send('GET', `/v2/blobs/repo/blobs/${unknown}`);
    expect(get.status).toBe(404);
    expect(get.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN', detail: { digest: unknown } }] });
    const head = await registry.send('HEAD', `/v2/blobs/repo/blobs/${unknown}`);
    expect(head.status).toBe(404);
  });

  it('a blob of another repository is unknown here until mounted', async () => {
    const response = await registry.send('GET', `/v2/other/repo/blobs/${digest}`);
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
  });

  it.each(['sha256:abc', 'sha256:' + 'G'.repeat(64), 'md5:0123', 'nodigest'])('a malformed digest %s answers 400 DIGEST_INVALID', async (bad) => {
    const response = await registry.send('GET', `/v2/blobs/repo/blobs/${bad}`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('a percent-encoded digest is understood', async () => {
    const response = await registry.send('HEAD', `/v2/blobs/repo/blobs/${digest.replace(':', '%3A')}`);
    expect(response.status).toBe(200);
  });

  it('DELETE unlinks the blob from the repository (202), after which it is unknown there', async () => {
    const other = await pushBlob(registry, 'blobs/repo', 'to be deleted');
    const deleted = await registry.send('DELETE', `/v2/blobs/repo/blobs/${other}`);
    expect(deleted.status).toBe(202);
    expect((await registry.send('GET', `/v2/blobs/repo/blobs/${other}`)).status).toBe(404);
    const again = await registry.send('DELETE', `/v2/blobs/repo/blobs/${other}`);
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
  });
});

describe('blobs on a registry with deletes disabled', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ deleteEnabled: false });
  });
  afterAll(async () => {
    await registry.close();
  });

  it('DELETE answers 405 UNSUPPORTED and the blob stays', async () => {
    const digest = await pushBlob(registry, 'keep/repo', 'kept');
    const response = await registry.send('DELETE', `/v2/keep/repo/blobs/${digest}`);
    expect(response.status).toBe(405);
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
    expect((await registry.send('GET', `/v2/keep/repo/blobs/${digest}`)).status).toBe(200);
  });
});

/** the inmemory driver as a backend with direct URLs under `base` would answer redirectURL */
const redirecting = (base: string): StorageDriver => decorate(inMemoryDriver(), { redirectURL: async (path) => `${base}${path}` });

describe('blob redirects', () => {
  it('GET answers 307 to the driver URL when the driver offers one, HEAD is answered directly', async () => {
    const registry = await startTestRegistry({ driver: redirecting('http://127.0.0.1:9/storage') });
    try {
      const digest = await pushBlob(registry, 'redirect/repo', 'redirected');
      const get = await registry.send('GET', `/v2/redirect/repo/blobs/${digest}`);
      expect(get.status).toBe(307);
      expect(get.headers.location).toBe(`http://127.0.0.1:9/storage/docker/registry/v2/blobs/sha256/${digest.slice(7, 9)}/${digest.slice(7)}/data`);
      const head = await registry.send('HEAD', `/v2/redirect/repo/blobs/${digest}`);
      expect(head.status).toBe(200);
    } finally {
      await registry.close();
    }
  });

  it('with redirects disabled the blob is served by the registry', async () => {
    const registry = await startTestRegistry({ redirect: false, driver: redirecting('http://127.0.0.1:9/storage') });
    try {
      const digest = await pushBlob(registry, 'redirect/repo', 'served');
      const get = await registry.send('GET', `/v2/redirect/repo/blobs/${digest}`);
      expect(get.status).toBe(200);
      expect(get.body.toString()).toBe('served');
    } finally {
      await registry.close();
    }
  });
});

describe('a blob that vanishes while it is being served', () => {
  it('answers 404 BLOB_UNKNOWN when the blob is deleted between its stat and its read, not a 500', async () => {
    const store = inMemoryDriver();
    let vanishOnRead = false;
    // a concurrent garbage collection: the blob's data goes away right before the registry opens it
    const racing = decorate(store, {
      reader: async (path, offset, signal) => {
        if (vanishOnRead && path.endsWith('/data')) await store.delete(path);
        return store.reader(path, offset, signal);
      },
    });
    const registry = await startTestRegistry({ driver: racing });
    try {
      const digest = await pushBlob(registry, 'race/repo', 'here, then gone');
      vanishOnRead = true;
      const response = await registry.send('GET', `/v2/race/repo/blobs/${digest}`);
      expect(response.status).toBe(404);
      expect(response.json()).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN', detail: { digest } }] });
    } finally {
      await registry.close();
    }
  });
});
