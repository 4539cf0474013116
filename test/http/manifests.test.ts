import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from './support/registry.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

describe('manifests', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });

  const put = (name: string, reference: string, body: string, contentType: string) =>
    registry.send('PUT', `/v2/${name}/manifests/${reference}`, { body, headers: { 'content-type': contentType } });

  it('PUT by tag answers 201 with Location and Docker-Content-Digest; GET by tag and digest return the bytes as sent', async () => {
    const { digest, manifest, response } = await pushImage(registry, 'man/repo', 'v1', { annotations: { 'org.example': '  spaced  ' } });
    expect(response.headers.location).toBe(`/v2/man/repo/manifests/${digest}`);
    expect(response.headers['docker-content-digest']).toBe(digest);
    for (const reference of ['v1', digest]) {
      const get = await registry.send('GET', `/v2/man/repo/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
      expect(get.status).toBe(200);
      expect(get.body.toString()).toBe(manifest);
      expect(get.headers['content-type']).toBe(OCI_MANIFEST);
      expect(get.headers['docker-content-digest']).toBe(digest);
      expect(get.headers['content-length']).toBe(String(Buffer.byteLength(manifest)));
    }
  });

  it('If-None-Match with the ETag answers 304', async () => {
    const { digest } = await pushImage(registry, 'man/repo', 'cached');
    const response = await registry.send('GET', '/v2/man/repo/manifests/cached', { headers: { 'if-none-match': `"${digest}"` } });
    expect(response.status).toBe(304);
    expect(response.headers['docker-content-digest']).toBe(digest);
    expect(response.body.length).toBe(0);
  });

  it('HEAD answers the headers of GET without a body', async () => {
    const { digest } = await pushImage(registry, 'man/repo', 'head');
    const head = await registry.send('HEAD', '/v2/man/repo/manifests/head');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['docker-content-digest']).toBe(digest);
    expect(head.headers['content-type']).toBe(OCI_MANIFEST);
  });

  it('whitespace and key order are kept: the digest is of the bytes sent', async () => {
    const config = await pushBlob(registry, 'man/raw', '{}');
    const body = `{\n  "schemaVersion": 2,\n  "config": {"size": 2, "digest": "${config}", "mediaType": "application/vnd.oci.image.config.v1+json"},\n  "layers": []\n}\n`;
    const response = await put('man/raw', 'pretty', body, OCI_MANIFEST);
    expect(response.status).toBe(201);
    expect(response.headers['docker-content-digest']).toBe(sha256(body));
    const get = await registry.send('GET', '/v2/man/raw/manifests/pretty');
    expect(get.body.toString()).toBe(body);
    // no mediaType field: served as what its shape and Content-Type say
    expect(get.headers['content-type']).toBe(OCI_MANIFEST);
  });

  it('PUT by digest verifies the digest: a mismatch answers 400 DIGEST_INVALID', async () => {
    const config = await pushBlob(registry, 'man/digest', '{}');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 }, layers: [] });
    const wrong = await put('man/digest', sha256('something else'), body, OCI_MANIFEST);
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    const right = await put('man/digest', sha256(body), body, OCI_MANIFEST);
    expect(right.status).toBe(201);
    const tags = await registry.send('GET', '/v2/man/digest/tags/list');
    expect(tags.json()).toEqual({ name: 'man/digest', tags: [] });
  });

  it('Docker schema 2 manifests and manifest lists are stored and served with their media types', async () => {
    const config = await pushBlob(registry, 'man/docker', '{"architecture":"amd64"}');
    const layer = await pushBlob(registry, 'man/docker', 'docker layer');
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 24, digest: config },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 12, digest: layer }],
    });
    expect((await put('man/docker', 'amd64', manifest, DOCKER_MANIFEST)).status).toBe(201);
    const list = JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_LIST,
      manifests: [{ mediaType: DOCKER_MANIFEST, size: manifest.length, digest: sha256(manifest), platform: { architecture: 'amd64', os: 'linux' } }],
    });
    expect((await put('man/docker', 'latest', list, DOCKER_LIST)).status).toBe(201);
    const get = await registry.send('GET', '/v2/man/docker/manifests/latest');
    expect(get.headers['content-type']).toBe(DOCKER_LIST);
    expect(get.body.toString()).toBe(list);
    expect((await registry.send('GET', '/v2/man/docker/manifests/amd64')).headers['content-type']).toBe(DOCKER_MANIFEST);
    // an old client accepting single manifests only gets the list's linux/amd64 entry, as from distribution
    const old = await registry.send('GET', '/v2/man/docker/manifests/latest', { headers: { accept: DOCKER_MANIFEST } });
    expect(old.headers['content-type']).toBe(DOCKER_MANIFEST);
    expect(old.headers['docker-content-digest']).toBe(sha256(manifest));
    expect(old.body.toString()).toBe(manifest);
    const modern = await registry.send('GET', '/v2/man/docker/manifests/latest', { headers: { accept: `${DOCKER_MANIFEST}, ${DOCKER_LIST}` } });
    expect(modern.headers['content-type']).toBe(DOCKER_LIST);
    const byDigest = await registry.send('GET', `/v2/man/docker/manifests/${sha256(list)}`, { headers: { accept: DOCKER_MANIFEST } });
    expect(byDigest.headers['content-type']).toBe(DOCKER_LIST);
  });

  it('an OCI index over pushed manifests is accepted; one naming an unknown manifest answers 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const child = await pushImage(registry, 'man/index', 'child');
    const descriptor = { mediaType: OCI_MANIFEST, size: Buffer.byteLength(child.manifest), digest: child.digest };
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor] });
    expect((await put('man/index', 'multi', index, OCI_INDEX)).status).toBe(201);
    const missing = sha256('no such manifest');
    const broken = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [descriptor, { ...descriptor, digest: missing }] });
    const response = await put('man/index', 'broken', broken, OCI_INDEX);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: missing } }] });
  });

  it('a manifest naming a config or layer the repository lacks answers 400 MANIFEST_BLOB_UNKNOWN', async () => {
    const config = await pushBlob(registry, 'man/missing', '{}');
    const missing = sha256('missing layer');
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: missing, size: 13 }],
    });
    const response = await put('man/missing', 'v1', body, OCI_MANIFEST);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: missing } }] });
    const otherRepoConfig = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: config, size: 2 }, layers: [] });
    const elsewhere = await put('man/elsewhere', 'v1', otherRepoConfig, OCI_MANIFEST);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.json()).toMatchObject({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN' }] });
  });

  it('of several blobs a manifest names that the repository lacks, the answer names the first in the manifest, and nothing is stored', async () => {
    const config = await pushBlob(registry, 'man/several', '{}');
    // more than are checked at once, the first missing one past the first batch
    const present = await Promise.all(Array.from({ length: 20 }, (_, i) => pushBlob(registry, 'man/several', `layer ${i}`)));
    const missing = ['first', 'second', 'third'].map((which) => sha256(`${which} missing layer`));
    const layers = [...present.slice(0, 18), missing[0], present[18], missing[1], present[19], missing[2]].map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 7 }));
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 }, layers });
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await put('man/several', 'v1', body, OCI_MANIFEST);
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: missing[0] }, message: expect.stringContaining('layers[18]') }] });
    }
    expect((await registry.send('GET', '/v2/man/several/manifests/v1')).status).toBe(404);
  });

  it('a foreign layer with urls need not be in the registry', async () => {
    const config = await pushBlob(registry, 'man/foreign', '{}');
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar', digest: sha256('foreign'), size: 7, urls: ['https://example.invalid/layer'] }],
    });
    expect((await put('man/foreign', 'v1', body, OCI_MANIFEST)).status).toBe(201);
  });

  it.each([
    ['not JSON', 'not json at all'],
    ['a JSON array', '[]'],
    ['schemaVersion 1', '{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}'],
    ['an unknown media type', '{"schemaVersion":2,"mediaType":"application/x-unknown","config":{}}'],
    ['a config that is no descriptor', `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":"nope","layers":[]}`],
    ['a layer with a malformed digest', `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"digest":"sha256:${'0'.repeat(64)}","size":1},"layers":[{"digest":"sha256:x","size":1}]}`],
  ])('a manifest that is %s answers 400 MANIFEST_INVALID', async (_why, body) => {
    const response = await put('man/invalid', 'v1', body, OCI_MANIFEST);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
  });

  it('a mediaType field that contradicts Content-Type answers 400 MANIFEST_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    const response = await put('man/invalid', 'v1', body, OCI_MANIFEST);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
  });

  it('Content-Type parameters are ignored', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    expect((await put('man/params', 'v1', body, `${OCI_INDEX}; charset=utf-8`)).status).toBe(201);
  });

  it('a manifest over 4 MiB answers 413 and is not stored', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const response = await put('man/large', 'v1', body, OCI_INDEX);
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
    expect((await registry.send('GET', '/v2/man/large/manifests/v1')).status).toBe(404);
  });

  it('an invalid tag on PUT answers 400 TAG_INVALID', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    const response = await put('man/tags', '-bad', body, OCI_INDEX);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'TAG_INVALID' }] });
  });

  it('unknown manifests answer 404 MANIFEST_UNKNOWN; a malformed digest reference 400 DIGEST_INVALID', async () => {
    for (const reference of ['nope', sha256('nope'), '.INVALID_MANIFEST_NAME']) {
      const response = await registry.send('GET', `/v2/man/repo/manifests/${reference}`);
      expect(response.status).toBe(404);
      expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    }
    expect((await registry.send('GET', '/v2/no/such/repo/manifests/latest')).status).toBe(404);
    const bad = await registry.send('GET', '/v2/man/repo/manifests/sha256:totallywrong');
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('re-tagging moves the tag to the new manifest', async () => {
    await pushImage(registry, 'man/retag', 'latest', {}, 'first');
    const second = await pushImage(registry, 'man/retag', 'latest', {}, 'second');
    expect((await registry.send('GET', '/v2/man/retag/manifests/latest')).headers['docker-content-digest']).toBe(second.digest);
  });

  it('a push by digest with ?tag= parameters sets each tag and confirms them in OCI-Tag', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { multi: 'tags' } });
    const response = await registry.send('PUT', `/v2/man/multitag/manifests/${sha256(body)}?tag=v1&tag=v1.2&tag=latest`, {
      body,
      headers: { 'content-type': OCI_INDEX },
    });
    expect(response.status).toBe(201);
    expect(response.headers['oci-tag']).toBe('v1, v1.2, latest');
    expect((await registry.send('GET', '/v2/man/multitag/tags/list')).json()).toEqual({ name: 'man/multitag', tags: ['latest', 'v1', 'v1.2'] });
    for (const tag of ['v1', 'v1.2', 'latest']) {
      expect((await registry.send('GET', `/v2/man/multitag/manifests/${tag}`)).headers['docker-content-digest']).toBe(sha256(body));
    }
  });

  it('?tag= parameters are refused on a push by tag (MANIFEST_INVALID) and when one is invalid (TAG_INVALID), setting nothing', async () => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [], annotations: { refused: 'tags' } });
    const byTag = await put('man/refused', 'v1?tag=v2', body, OCI_INDEX);
    expect(byTag.status).toBe(400);
    expect(byTag.json()).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
    const invalid = await put('man/refused', `${sha256(body)}?tag=ok&tag=-bad`, body, OCI_INDEX);
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({ errors: [{ code: 'TAG_INVALID' }] });
    expect((await registry.send('GET', '/v2/man/refused/tags/list')).status).toBe(404);
  });

  it('a manifest with a subject answers OCI-Subject', async () => {
    const subject = await pushImage(registry, 'man/subject', 'base');
    const config = await pushBlob(registry, 'man/subject', '{}');
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.manifest.length },
    });
    const response = await put('man/subject', sha256(body), body, OCI_MANIFEST);
    expect(response.status).toBe(201);
    expect(response.headers['oci-subject']).toBe(subject.digest);
  });
});

describe('manifest and tag deletes', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });

  it('DELETE of a tag removes only the tag (202); the manifest stays by digest', async () => {
    const image = await pushImage(registry, 'del/repo', 'one');
    await registry.send('PUT', '/v2/del/repo/manifests/two', { body: image.manifest, headers: { 'content-type': OCI_MANIFEST } });
    const response = await registry.send('DELETE', '/v2/del/repo/manifests/one');
    expect(response.status).toBe(202);
    expect((await registry.send('GET', '/v2/del/repo/manifests/one')).status).toBe(404);
    expect((await registry.send('GET', `/v2/del/repo/manifests/${image.digest}`)).status).toBe(200);
    expect((await registry.send('GET', '/v2/del/repo/tags/list')).json()).toEqual({ name: 'del/repo', tags: ['two'] });
    const again = await registry.send('DELETE', '/v2/del/repo/manifests/one');
    expect(again.status).toBe(404);
    expect(again.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });

  it('DELETE by digest removes the manifest and every tag naming it (202)', async () => {
    const image = await pushImage(registry, 'del/digest', 'a');
    await registry.send('PUT', '/v2/del/digest/manifests/b', { body: image.manifest, headers: { 'content-type': OCI_MANIFEST } });
    const other = await pushImage(registry, 'del/digest', 'c', {}, 'other layer');
    const response = await registry.send('DELETE', `/v2/del/digest/manifests/${image.digest}`);
    expect(response.status).toBe(202);
    expect((await registry.send('GET', `/v2/del/digest/manifests/${image.digest}`)).status).toBe(404);
    expect((await registry.send('GET', '/v2/del/digest/manifests/a')).status).toBe(404);
    expect((await registry.send('GET', '/v2/del/digest/tags/list')).json()).toEqual({ name: 'del/digest', tags: ['c'] });
    expect((await registry.send('GET', `/v2/del/digest/manifests/${other.digest}`)).status).toBe(200);
    expect((await registry.send('DELETE', `/v2/del/digest/manifests/${image.digest}`)).status).toBe(404);
  });

  it('a malformed digest in a DELETE answers 400 DIGEST_INVALID', async () => {
    const response = await registry.send('DELETE', '/v2/del/repo/manifests/sha256:short');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('with deletes disabled, manifest and tag DELETEs answer 405 UNSUPPORTED and change nothing', async () => {
    const locked = await startTestRegistry({ deleteEnabled: false });
    try {
      const image = await pushImage(locked, 'locked/repo', 'v1');
      for (const reference of ['v1', image.digest]) {
        const response = await locked.send('DELETE', `/v2/locked/repo/manifests/${reference}`);
        expect(response.status).toBe(405);
        expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
      }
      expect((await locked.send('GET', '/v2/locked/repo/manifests/v1')).status).toBe(200);
    } finally {
      await locked.close();
    }
  });
});
