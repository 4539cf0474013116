/**
 * Pull-through mirroring end to end: stowage (in this process, filesystem storage) mirrors distribution 2.8
 * (Debian's docker-registry, htpasswd) through a counting proxy; skopeo and plain HTTP pull through stowage.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MirrorConfig, UpstreamConfig } from '../../../src/config/mirror.js';
import { startRegistry, type RunningRegistry } from '../../../src/embed.js';
import { createLogger } from '../../../src/logger.js';
import { silentLogger } from '../../../src/registry/logger.js';
import { runSync } from '../../../src/registry/mirror/sync.js';
import { garbageCollectWithDistribution, startDistribution } from '../../support/distribution.js';
import { buildImageLayout, readLayout } from '../../support/oci-layout.js';
import { imageManifest, pushBlobAnswered, pushManifestTo } from '../../support/push-by-url.js';
import { dockerRef, ociRef } from '../../support/skopeo.js';
import { createFilesystemDriver } from '../../support/stowage.js';
import { startPopulatedUpstream, type PopulatedUpstream } from './support.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const MANIFEST_ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';

interface Mirror {
  readonly url: string;
  readonly host: string;
  readonly storage: string;
  readonly spool: string;
  readonly registry: RunningRegistry;
  readonly logLines: string[];
  close(): Promise<void>;
}

interface ImageManifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

let upstream: PopulatedUpstream;
const started: Mirror[] = [];
const cleanup: string[] = [];

beforeAll(async () => {
  upstream = await startPopulatedUpstream();
}, 180_000);
afterEach(async () => {
  for (const mirror of started.splice(0)) await mirror.close();
});
afterAll(async () => {
  await upstream?.close();
  await Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true })));
});

function upstreamConfig(overrides: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: 'dist',
    remoteurl: upstream.proxy.url,
    username: upstream.user,
    password: upstream.password,
    ttl: '1h',
    prefix: 'mirror/dist',
    remoteprefix: '',
    sync: [],
    path: 'proxy.upstreams[0]',
    ...overrides,
  };
}

/** stowage on a fresh filesystem storage, mirroring `config`, its log lines kept (no redactor: nothing secret may reach them) */
async function startMirror(
  config: MirrorConfig = { upstreams: [upstreamConfig()] },
  now?: () => number,
  options: { readonly readOnly?: boolean; readonly storage?: string; readonly quotas?: readonly { namespace: string; limit: number }[] } = {},
): Promise<Mirror> {
  const storage = options.storage ?? (await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-storage-')));
  const spool = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-spool-'));
  cleanup.push(storage, spool);
  const logLines: string[] = [];
  const destination = { write: (line: string) => void logLines.push(line) };
  const registry = await startRegistry({
    driver: await createFilesystemDriver(storage),
    deleteEnabled: true,
    readOnly: options.readOnly ?? false,
    ...(options.quotas ? { quotas: options.quotas } : {}),
    logger: createLogger({ level: 'debug', destination }),
    mirror: { config, spoolDir: spool, ...(now ? { now } : {}) },
  });
  const mirror: Mirror = {
    url: registry.url,
    host: new URL(registry.url).host,
    storage,
    spool,
    registry,
    logLines,
    async close() {
      await registry.close();
      await registry.registry.closeCaches();
    },
  };
  started.push(mirror);
  return mirror;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const response = await request(url, { headers });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

const blobPath = (root: string, digest: string): string => path.join(root, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');
/** the upload sessions on disk: a name with `~` is the driver's hidden temporary (a spare folder for the next session), never a session */
const uploadsOf = async (root: string, repository: string): Promise<string[]> =>
  (await readdir(path.join(root, 'docker/registry/v2/repositories', repository, '_uploads')).catch(() => [])).filter((name) => !name.includes('~'));

/** the image manifest of library/app:v1 as the upstream holds it */
async function appManifest(mirror: Mirror): Promise<ImageManifest> {
  const response = await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT });
  expect(response.status).toBe(200);
  return JSON.parse(response.body.toString()) as ImageManifest;
}

describe('pull-through mirroring of distribution 2.8 with htpasswd', () => {
  it('skopeo pulls an image only the upstream holds; a second pull asks the upstream nothing', async () => {
    const mirror = await startMirror();
    const before = upstream.proxy.requests.length;
    const dest = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-pull-'));
    cleanup.push(dest);
    await upstream.skopeo.copy(dockerRef(mirror.host, 'mirror/dist/library/app', 'v1'), ociRef(path.join(dest, 'first'), 'v1'));
    const pulled = await readLayout(path.join(dest, 'first'));
    expect(pulled.tags.get('v1')).toBe(upstream.image.rootDigest);
    for (const [digest, actual] of pulled.blobs) expect(actual).toBe(digest);
    expect(new Set(pulled.blobs.keys())).toEqual(upstream.image.blobDigests);
    for (const digest of upstream.image.blobDigests) expect(existsSync(blobPath(mirror.storage, digest))).toBe(true);
    expect(upstream.proxy.requests.length).toBeGreaterThan(before);

    const afterFirst = upstream.proxy.requests.length;
    await upstream.skopeo.copy(dockerRef(mirror.host, 'mirror/dist/library/app', 'v1'), ociRef(path.join(dest, 'second'), 'v1'));
    expect((await readLayout(path.join(dest, 'second'))).tags.get('v1')).toBe(upstream.image.rootDigest);
    // the tag is within its ttl and every digest is stored: nothing reached the upstream
    expect(upstream.proxy.requests.slice(afterFirst)).toEqual([]);
    expect(await readdir(mirror.spool)).toEqual([]);
  });

  it('skopeo pulls a multi-arch index through the mirror, every platform included', async () => {
    const mirror = await startMirror();
    const dest = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-multi-'));
    cleanup.push(dest);
    await upstream.skopeo.copy(dockerRef(mirror.host, 'mirror/dist/library/multi', 'multi'), ociRef(dest, 'multi'), ['--all']);
    const pulled = await readLayout(dest);
    expect(pulled.tags.get('multi')).toBe(upstream.index.rootDigest);
    expect(new Set(pulled.blobs.keys())).toEqual(upstream.index.blobDigests);
    for (const [digest, actual] of pulled.blobs) expect(actual).toBe(digest);
  });

  it('many clients pulling a blob being fetched share one upstream GET, each streaming it whole', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const layer = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    const blobPathAtUpstream = new RegExp(`^/v2/library/app/blobs/${layer.digest}$`);
    // the upstream's answer stops half-way until every client has joined the flight
    const before = upstream.proxy.count('GET', blobPathAtUpstream);
    const held = upstream.proxy.holdAfter(blobPathAtUpstream, Math.floor(layer.size / 2));
    const first = await request(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`);
    await held.reached;
    const others = await Promise.all(Array.from({ length: 5 }, () => request(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`)));
    held.release();
    const responses = [first, ...others];
    const bodies = await Promise.all(responses.map(async (response) => Buffer.from(await response.body.arrayBuffer())));
    for (const [i, response] of responses.entries()) {
      expect(response.statusCode).toBe(200);
      expect(Number(response.headers['content-length'])).toBe(layer.size);
      expect(sha256(bodies[i]!)).toBe(layer.digest);
    }
    expect(upstream.proxy.count('GET', blobPathAtUpstream) - before).toBe(1);
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(true);
  });

  it('a HEAD of a blob not stored yet asks the upstream with HEAD only and stores nothing; a GET then fetches it', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const layer = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    const atUpstream = new RegExp(`^/v2/library/app/blobs/${layer.digest}$`);
    const [gets, heads] = [upstream.proxy.count('GET', atUpstream), upstream.proxy.count('HEAD', atUpstream)];
    const head = await request(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`, { method: 'HEAD' });
    await head.body.dump();
    expect({ status: head.statusCode, length: Number(head.headers['content-length']), digest: head.headers['docker-content-digest'] }).toEqual({ status: 200, length: layer.size, digest: layer.digest });
    expect(upstream.proxy.count('HEAD', atUpstream) - heads, 'the upstream was asked with HEAD').toBe(1);
    expect(upstream.proxy.count('GET', atUpstream) - gets, 'and nothing was fetched').toBe(0);
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(false);
    expect(await uploadsOf(mirror.storage, 'mirror/dist/library/app')).toEqual([]);

    const unknown = await request(`${mirror.url}/v2/mirror/dist/library/app/blobs/sha256:${'2'.repeat(64)}`, { method: 'HEAD' });
    await unknown.body.dump();
    expect(unknown.statusCode, 'a blob the upstream does not know either').toBe(404);

    expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`)).body)).toBe(layer.digest);
    expect(upstream.proxy.count('GET', atUpstream) - gets, 'a GET fetches').toBe(1);
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(true);
  });

  it('content by digest is never fetched again: blob and manifest GETs by digest after the first stay local', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    for (const digest of digests) expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${digest}`)).body)).toBe(digest);
    const mark = upstream.proxy.requests.length;
    for (const digest of digests) expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${digest}`)).body)).toBe(digest);
    const byDigest = await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/${upstream.image.rootDigest}`, { accept: MANIFEST_ACCEPT });
    expect(sha256(byDigest.body)).toBe(upstream.image.rootDigest);
    expect(upstream.proxy.requests.slice(mark)).toEqual([]);
  });

  it('an upstream cut mid-blob leaves nothing stored and the client response cut short; the next pull succeeds', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const layer = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    upstream.proxy.cutAfter(new RegExp(`^/v2/library/app/blobs/${layer.digest}$`), Math.floor(layer.size / 3));
    const response = await request(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`);
    expect(response.statusCode).toBe(200);
    let received = 0;
    let outcome = 'complete';
    try {
      for await (const chunk of response.body) received += (chunk as Buffer).length;
    } catch {
      outcome = 'cut';
    }
    expect(outcome).toBe('cut');
    expect(received).toBeLessThan(layer.size);
    // nothing half-stored: no blob, no upload session, no spool file
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(false);
    await expect.poll(() => uploadsOf(mirror.storage, 'mirror/dist/library/app')).toEqual([]);
    await expect.poll(() => readdir(mirror.spool)).toEqual([]);

    const again = await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`);
    expect(again.status).toBe(200);
    expect(sha256(again.body)).toBe(layer.digest);
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(true);
  });

  it('spool files a dead process left (untouched for a day) are removed at the first fetch; a live one is left', async () => {
    const mirror = await startMirror();
    const stale = path.join(mirror.spool, 'stowage-mirror-00000000-dead.part');
    const live = path.join(mirror.spool, 'stowage-mirror-11111111-live.part');
    await writeFile(stale, 'half a blob');
    await writeFile(live, 'another process fetching');
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    const manifest = await appManifest(mirror);
    expect((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${manifest.config.digest}`)).status).toBe(200);
    await expect.poll(() => readdir(mirror.spool)).toEqual([path.basename(live)]);
    await rm(live);
  });

  it('bytes that do not match their digest are not stored, and no client gets a complete response', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const layer = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    upstream.proxy.corruptAt(new RegExp(`^/v2/library/app/blobs/${layer.digest}$`), layer.size - 10);
    const response = await request(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`);
    let received = 0;
    let outcome = 'complete';
    try {
      for await (const chunk of response.body) received += (chunk as Buffer).length;
    } catch {
      outcome = 'cut';
    }
    expect(outcome).toBe('cut');
    // held one byte short of the end until the digest was checked
    expect(received).toBeLessThan(layer.size);
    expect(existsSync(blobPath(mirror.storage, layer.digest))).toBe(false);
    await expect.poll(() => uploadsOf(mirror.storage, 'mirror/dist/library/app')).toEqual([]);
    const again = await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`);
    expect(sha256(again.body)).toBe(layer.digest);
  });
});

/** pushes a one-layer image to `repository:tag` over plain HTTP; the statuses of the blob and manifest pushes, and the body of a refused blob push */
async function push(url: string, repository: string, tag: string): Promise<{ blob: number; manifest: number; body: string }> {
  const layer = Buffer.from(`layer of ${repository}`);
  const config = Buffer.from('{}');
  for (const blob of [layer, config]) {
    const answer = await pushBlobAnswered(url, repository, blob);
    if (answer.status !== 201) return { blob: answer.status, manifest: 0, body: answer.body };
  }
  return { blob: 201, manifest: await pushManifestTo(url, repository, tag, imageManifest(config, [layer])), body: '' };
}

describe('mirrored and local namespaces, tag ttls, and an upstream that fails', () => {
  it('repositories outside every prefix stay pushable; pushes and deletes under a mirrored prefix are refused (405 UNSUPPORTED)', async () => {
    const mirror = await startMirror();
    expect(await push(mirror.url, 'local/app', 'v1')).toMatchObject({ blob: 201, manifest: 201 });
    expect((await get(`${mirror.url}/v2/local/app/manifests/v1`, { accept: MANIFEST_ACCEPT })).status).toBe(200);

    const refused = await push(mirror.url, 'mirror/dist/library/app', 'v2');
    expect(refused.blob).toBe(405);
    expect(JSON.parse(refused.body)).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
    expect(refused.body).toContain('mirror/dist/');
    const put = await request(`${mirror.url}/v2/mirror/dist/new/manifests/v1`, { method: 'PUT', body: '{}', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(put.statusCode).toBe(405);
    expect(JSON.parse(await put.body.text())).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
    await appManifest(mirror);
    const del = await request(`${mirror.url}/v2/mirror/dist/library/app/manifests/${upstream.image.rootDigest}`, { method: 'DELETE' });
    expect(del.statusCode).toBe(405);
    await del.body.dump();
    expect((await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT })).status).toBe(200);
  });

  it("with distribution's single remoteurl the whole namespace is mirrored and every push refused", async () => {
    const mirror = await startMirror({ upstreams: [upstreamConfig({ name: 'proxy', prefix: '', path: 'proxy' })] });
    const pulled = await get(`${mirror.url}/v2/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT });
    expect(pulled.status).toBe(200);
    expect(sha256(pulled.body)).toBe(upstream.image.rootDigest);
    const refused = await push(mirror.url, 'local/app', 'v1');
    expect(refused.blob).toBe(405);
    expect(refused.body).toContain('whole namespace');
  });

  it('a tag is served locally within its ttl, re-checked by HEAD after it, and re-fetched when the upstream moved it', async () => {
    let now = Date.UTC(2026, 5, 1);
    const mirror = await startMirror({ upstreams: [upstreamConfig({ ttl: '1h' })] }, () => now);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-ttl-'));
    cleanup.push(dir);
    const creds = ['--dest-creds', `${upstream.user}:${upstream.password}`];
    const first = await buildImageLayout(path.join(dir, 'a'), 'v1', 'ttl-first', [1024]);
    await upstream.skopeo.copy(ociRef(first.dir, 'v1'), dockerRef(upstream.distribution.host, 'library/ttl', 'v1'), creds);
    const manifestPath = /^\/v2\/library\/ttl\/manifests\/v1$/;
    const pull = async (): Promise<string> => sha256((await get(`${mirror.url}/v2/mirror/dist/library/ttl/manifests/v1`, { accept: MANIFEST_ACCEPT })).body);

    expect(await pull()).toBe(first.rootDigest);
    const counts = (): [number, number] => [upstream.proxy.count('HEAD', manifestPath), upstream.proxy.count('GET', manifestPath)];
    const afterFetch = counts();
    now += 59 * 60_000;
    expect(await pull()).toBe(first.rootDigest);
    expect(counts()).toEqual(afterFetch);

    now += 2 * 60_000;
    expect(await pull()).toBe(first.rootDigest);
    expect(counts()).toEqual([afterFetch[0] + 1, afterFetch[1]]);
    // confirmed: trusted for another hour
    expect(await pull()).toBe(first.rootDigest);
    expect(counts()).toEqual([afterFetch[0] + 1, afterFetch[1]]);

    const second = await buildImageLayout(path.join(dir, 'b'), 'v1', 'ttl-second', [2048]);
    await upstream.skopeo.copy(ociRef(second.dir, 'v1'), dockerRef(upstream.distribution.host, 'library/ttl', 'v1'), creds);
    expect(await pull()).toBe(first.rootDigest);
    now += 61 * 60_000;
    expect(await pull()).toBe(second.rootDigest);
    expect(counts()).toEqual([afterFetch[0] + 2, afterFetch[1] + 1]);
    // the old manifest stays reachable by digest
    expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/ttl/manifests/${first.rootDigest}`, { accept: MANIFEST_ACCEPT })).body)).toBe(first.rootDigest);
  });

  it('with the upstream down, what was stored is served (tags past their ttl too) and what was not is 503', async () => {
    let now = Date.UTC(2026, 5, 1);
    const mirror = await startMirror(undefined, () => now);
    const manifest = await appManifest(mirror);
    for (const layer of manifest.layers) expect((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`)).status).toBe(200);
    upstream.proxy.setDown(true);
    try {
      now += 24 * 3600_000;
      const tag = await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT });
      expect(tag.status).toBe(200);
      expect(sha256(tag.body)).toBe(upstream.image.rootDigest);
      for (const layer of manifest.layers) expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${layer.digest}`)).body)).toBe(layer.digest);
      const config = await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${manifest.config.digest}`);
      expect(config.status).toBe(503);
      expect(JSON.parse(config.body.toString())).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });
      const other = await get(`${mirror.url}/v2/mirror/dist/library/multi/manifests/multi`, { accept: MANIFEST_ACCEPT });
      expect(other.status).toBe(503);
      expect(other.body.toString()).toContain('dist');
    } finally {
      upstream.proxy.setDown(false);
    }
  });

  it('in read-only mode nothing is fetched: what is stored is served, the rest is unknown, and the upstream is not asked', async () => {
    const writer = await startMirror();
    await appManifest(writer);
    await writer.close();
    started.splice(started.indexOf(writer), 1);
    const mirror = await startMirror(undefined, undefined, { readOnly: true, storage: writer.storage });
    const mark = upstream.proxy.requests.length;
    expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT })).body)).toBe(upstream.image.rootDigest);
    const manifest = await appManifest(mirror);
    const layer = await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${manifest.layers[0]!.digest}`);
    expect(layer.status).toBe(404);
    expect(JSON.parse(layer.body.toString())).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
    expect((await get(`${mirror.url}/v2/mirror/dist/library/multi/manifests/multi`, { accept: MANIFEST_ACCEPT })).status).toBe(404);
    expect(upstream.proxy.requests.slice(mark)).toEqual([]);
  });

  it("a mirrored repository lists its upstream's tags (paged), and its stored ones while the upstream is down", async () => {
    const mirror = await startMirror();
    const listed = await get(`${mirror.url}/v2/mirror/dist/library/app/tags/list`);
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body.toString())).toEqual({ name: 'mirror/dist/library/app', tags: ['v1'] });
    const paged = await get(`${mirror.url}/v2/mirror/dist/library/app/tags/list?n=1&last=v1`);
    expect(JSON.parse(paged.body.toString())).toEqual({ name: 'mirror/dist/library/app', tags: [] });
    upstream.proxy.setDown(true);
    try {
      expect((await get(`${mirror.url}/v2/mirror/dist/library/app/tags/list`)).status).toBe(404);
    } finally {
      upstream.proxy.setDown(false);
    }
    await appManifest(mirror);
    upstream.proxy.setDown(true);
    try {
      expect(JSON.parse((await get(`${mirror.url}/v2/mirror/dist/library/app/tags/list`)).body.toString())).toEqual({ name: 'mirror/dist/library/app', tags: ['v1'] });
    } finally {
      upstream.proxy.setDown(false);
    }
  });

  it('an unknown upstream repository or tag is 404 MANIFEST_UNKNOWN, as for a local one', async () => {
    const mirror = await startMirror();
    const missing = await get(`${mirror.url}/v2/mirror/dist/library/app/manifests/nope`, { accept: MANIFEST_ACCEPT });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body.toString())).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const blob = await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/sha256:${'1'.repeat(64)}`);
    expect(blob.status).toBe(404);
    expect(JSON.parse(blob.body.toString())).toMatchObject({ errors: [{ code: 'BLOB_UNKNOWN' }] });
  });

  it('wrong upstream credentials answer 503 UNAVAILABLE naming the upstream, its status and the user, where distribution 2.8 answers 500; the password is in no answer and no log line', async () => {
    const password = 'definitely-wrong-password-4711';
    const blob = [...upstream.image.blobDigests][0]!;
    const paths = ['manifests/v1', `manifests/${upstream.image.rootDigest}`, `blobs/${blob}`];
    // distribution 2.8 as a pull-through cache with the same wrong password: a server error for content,
    // and for the tag a 404 that hides the cause; stowage keeps a 5xx and says why
    const distribution = await startDistribution({ proxy: { remoteurl: upstream.proxy.url, username: upstream.user, password } });
    try {
      for (const target of paths.slice(1)) {
        const answer = await get(`${distribution.url}/v2/library/app/${target}`, { accept: MANIFEST_ACCEPT });
        expect(answer.status, `distribution's cache on ${target}`).toBe(500);
      }
    } finally {
      await distribution.close();
    }
    const mirror = await startMirror({ upstreams: [upstreamConfig({ password })] });
    for (const [method, target] of [...paths.map((p) => ['GET', p] as const), ['HEAD', `blobs/${blob}`] as const]) {
      const response = await request(`${mirror.url}/v2/mirror/dist/library/app/${target}`, { method, headers: { accept: MANIFEST_ACCEPT } });
      const body = await response.body.text();
      expect(response.statusCode, `${method} ${target}`).toBe(503);
      if (method === 'HEAD') continue;
      expect(JSON.parse(body), `${method} ${target}`).toMatchObject({ errors: [{ code: 'UNAVAILABLE', detail: { upstream: 'dist', upstreamStatus: 401, reason: 'credentials-unauthorized' } }] });
      expect(body).toContain(`refused the credentials configured for it (user ${upstream.user})`);
      expect(body).not.toContain(password);
    }
    expect(mirror.logLines.length).toBeGreaterThan(0);
    expect(mirror.logLines.join('\n')).not.toContain(password);
    expect(mirror.logLines.join('\n')).not.toContain(Buffer.from(`${upstream.user}:${password}`).toString('base64'));
  });

  it('fetched content counts toward its namespace\'s quota as it lands, and a fetch the quota cannot take is refused with 403 DENIED before its answer starts, storing nothing', async () => {
    const usage = async (mirror: Mirror): Promise<{ usedBytes: number; blobs: number }> => {
      const [quota] = (JSON.parse((await get(`${mirror.url}/v2/_stowage/quotas`)).body.toString()) as { quotas: { usedBytes: number; blobs: number }[] }).quotas;
      return { usedBytes: quota!.usedBytes, blobs: quota!.blobs };
    };
    const roomy = await startMirror(undefined, undefined, { quotas: [{ namespace: 'mirror/dist', limit: 1024 * 1024 * 1024 }] });
    expect(await usage(roomy), 'counted before anything was fetched').toEqual({ usedBytes: 0, blobs: 0 });
    const manifestBytes = (await get(`${roomy.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT })).body;
    const manifest = JSON.parse(manifestBytes.toString()) as ImageManifest;
    const blobs = [manifest.config, ...manifest.layers];
    for (const blob of blobs) expect(sha256((await get(`${roomy.url}/v2/mirror/dist/library/app/blobs/${blob.digest}`)).body)).toBe(blob.digest);
    // no recount ran: the fetches themselves were counted
    expect(await usage(roomy)).toEqual({ usedBytes: manifestBytes.length + blobs.reduce((sum, blob) => sum + blob.size, 0), blobs: blobs.length + 1 });

    const largest = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    const tight = await startMirror(undefined, undefined, { quotas: [{ namespace: 'mirror/dist', limit: manifestBytes.length + largest.size - 1 }] });
    await get(`${tight.url}/v2/mirror/dist/library/app/manifests/v1`, { accept: MANIFEST_ACCEPT });
    // the upstream's Content-Length tells the size: the refusal is a whole answer in distribution's error format, not a 200 cut short
    for (const method of ['GET', 'GET', 'HEAD'] as const) {
      const refused = await request(`${tight.url}/v2/mirror/dist/library/app/blobs/${largest.digest}`, { method });
      const body = Buffer.from(await refused.body.arrayBuffer());
      if (method === 'HEAD') {
        // a HEAD fetches nothing, so it has nothing to refuse: it answers the upstream's size
        expect(refused.statusCode).toBe(200);
        continue;
      }
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      const [error] = (JSON.parse(body.toString()) as { errors: { code: string; message: string }[] }).errors;
      expect(error!.code).toBe('DENIED');
      expect(error!.message).toContain('quota exceeded: namespace mirror/dist');
    }
    const layerLink = path.join(tight.storage, 'docker/registry/v2/repositories/mirror/dist/library/app/_layers/sha256', largest.digest.slice(7), 'link');
    expect(existsSync(layerLink), 'the refused blob is not linked').toBe(false);
    expect(existsSync(blobPath(tight.storage, largest.digest)), 'the refused blob is not stored').toBe(false);
    expect(await uploadsOf(tight.storage, 'mirror/dist/library/app'), 'no upload session is left').toEqual([]);
    expect((await readdir(tight.spool)).filter((file) => file.endsWith('.part')), 'no spool file is left').toEqual([]);
    expect((await usage(tight)).usedBytes).toBe(manifestBytes.length);
    // what fits is still fetched, whole
    const fits = manifest.config;
    expect(sha256((await get(`${tight.url}/v2/mirror/dist/library/app/blobs/${fits.digest}`)).body)).toBe(fits.digest);
    expect((await usage(tight)).usedBytes).toBe(manifestBytes.length + fits.size);
  });

  it('a repository over its quota that pulls a blob another repository is fetching (or has fetched) gets 403 DENIED before its answer starts, and the other gets it whole', async () => {
    const mirror = await startMirror({ upstreams: [upstreamConfig(), upstreamConfig({ name: 'other', prefix: 'mirror/other', path: 'proxy.upstreams[1]' })] }, undefined, {
      quotas: [{ namespace: 'mirror/other', limit: 1 }],
    });
    const manifest = await appManifest(mirror);
    const largest = manifest.layers.reduce((a, b) => (a.size > b.size ? a : b));
    // both at once: the second joins the first one's fetch, or finds the blob stored
    const [roomy, over] = await Promise.all(
      ['mirror/dist/library/app', 'mirror/other/library/app'].map(async (repository) => {
        const response = await request(`${mirror.url}/v2/${repository}/blobs/${largest.digest}`);
        return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()) };
      }),
    );
    expect(roomy!.status).toBe(200);
    expect(sha256(roomy!.body)).toBe(largest.digest);
    expect(over!.status).toBe(403);
    expect((JSON.parse(over!.body.toString()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DENIED');
    const otherLink = path.join(mirror.storage, 'docker/registry/v2/repositories/mirror/other/library/app/_layers/sha256', largest.digest.slice(7), 'link');
    expect(existsSync(otherLink), 'not linked into the repository over its quota').toBe(false);
  });

  it('fetched content is stored as a push stores it: garbage collection (distribution 2.8 and stowage) keeps it', async () => {
    const mirror = await startMirror();
    const manifest = await appManifest(mirror);
    const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
    for (const digest of digests) expect((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${digest}`)).status).toBe(200);
    const report = await mirror.registry.registry.collectGarbage({ dryRun: false, deleteUntagged: false });
    expect(report.blobsRemoved).toEqual([]);
    expect(report.manifestsRemoved).toEqual([]);
    await garbageCollectWithDistribution(mirror.storage);
    for (const digest of [...digests, upstream.image.rootDigest]) expect(existsSync(blobPath(mirror.storage, digest))).toBe(true);
  });

  it("a scheduled sync stores through the mirror's own fetcher: everything a pull needs, served later with the upstream down", async () => {
    const mirror = await startMirror();
    const port = mirror.registry.registry.mirrorSyncPort('dist');
    expect(port).toBeDefined();
    expect(mirror.registry.registry.mirrorSyncPort('nope')).toBeUndefined();
    const entry = { repositories: ['library/app'], tags: ['v1'], interval: '1h' };
    const first = await runSync(entry, { upstream: 'dist', port: port!, logger: silentLogger });
    expect(first).toMatchObject({ tags: 1, manifests: 1, blobsFetched: upstream.image.blobDigests.size - 1, blobsHeld: 0, failures: [] });
    const again = await runSync(entry, { upstream: 'dist', port: port!, logger: silentLogger });
    expect(again).toMatchObject({ tags: 1, blobsFetched: 0, blobsHeld: upstream.image.blobDigests.size - 1 });
    upstream.proxy.setDown(true);
    try {
      const manifest = await appManifest(mirror);
      for (const digest of [manifest.config.digest, ...manifest.layers.map((l) => l.digest)]) {
        expect(sha256((await get(`${mirror.url}/v2/mirror/dist/library/app/blobs/${digest}`)).body)).toBe(digest);
      }
    } finally {
      upstream.proxy.setDown(false);
    }
  });
});
