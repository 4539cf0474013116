/**
 * Real clients pulling through stowage as a pull-through mirror of real upstreams on loopback:
 * - dockerd started with `--registry-mirror` at stowage pulls a docker.io-style image (`library/<name>`)
 *   only the upstream (distribution 2.8 with htpasswd, mirrored as the whole namespace by `proxy.remoteurl`)
 *   holds;
 * - skopeo copies a multi-arch OCI index (two platform images) through a prefixed upstream with `--all`,
 *   every digest equal to the upstream's;
 * - another stowage with the built-in token server is the upstream, so the mirror follows a Bearer challenge;
 * - the upstream dies in the middle of a layer: nothing half-stored, what was complete still served, and the
 *   pull succeeds once the upstream is back.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htpasswdText, startAuthRegistry, USERS, type AuthRegistry } from '../auth/support.js';
import { ensureDebianTools } from '../support/debian.js';
import { startDistribution } from '../support/distribution.js';
import { CONTAINERD, DOCKERD, startDockerDaemons, type DockerDaemons } from '../support/docker-daemons.js';
import { startMirror, type RunningMirror } from '../support/mirror.js';
import { buildImageLayout, buildMultiArchLayout, readLayout, type BuiltLayout } from '../support/oci-layout.js';
import type { RunningRegistry } from '../support/registry-under-test.js';
import { dockerRef, ociRef, Skopeo } from '../support/skopeo.js';
import { startUpstreamProxy, type UpstreamProxy } from '../support/upstream-proxy.js';

interface Run {
  readonly status: number | null;
  readonly out: string;
}

function docker(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', (err) => (out += String(err)));
    child.on('close', (status) => resolve({ status, out }));
  });
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const blobData = (root: string, digest: string): string =>
  path.join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data');

/** every blob file the mirror's filesystem storage holds, digest -> sha256 of its bytes */
async function storedBlobs(root: string): Promise<Map<string, string>> {
  const base = path.join(root, 'docker', 'registry', 'v2', 'blobs', 'sha256');
  const found = new Map<string, string>();
  if (!existsSync(base)) return found;
  for (const shard of await readdir(base)) {
    for (const hex of await readdir(path.join(base, shard))) {
      const data = path.join(base, shard, hex, 'data');
      if (existsSync(data)) found.set(`sha256:${hex}`, sha256(await readFile(data)));
    }
  }
  return found;
}

/** the upload folders left in the mirror's storage (a fetch stores through an upload session) */
async function uploadFolders(root: string): Promise<string[]> {
  const repositories = path.join(root, 'docker', 'registry', 'v2', 'repositories');
  if (!existsSync(repositories)) return [];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const full = path.join(dir, entry.name);
      // a name with `~` is the filesystem driver's hidden temporary (a spare folder kept for the next session), never a session
      if (entry.name === '_uploads') found.push(...(await readdir(full)).filter((id) => !id.includes('~')).map((id) => path.join(full, id)));
      else await walk(full);
    }
  };
  await walk(repositories);
  return found;
}

/** polls `condition` (a state to reach, not a time to wait) */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let work: string;
let skopeo: Skopeo;
const creds = (user: string): string => `${user}:${USERS[user]}`;

beforeAll(async () => {
  skopeo = await Skopeo.create();
  work = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-clients-'));
  await writeFile(path.join(work, 'htpasswd'), htpasswdText());
}, 300_000);

afterAll(async () => {
  await skopeo?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('through a mirror of distribution 2.8 with htpasswd', { timeout: 300_000 }, () => {
  let upstream: RunningRegistry;
  let mirror: RunningMirror;
  let daemons: DockerDaemons | undefined;
  let hello: BuiltLayout;
  let multi: BuiltLayout;

  beforeAll(async () => {
    ensureDebianTools(CONTAINERD, DOCKERD);
    upstream = await startDistribution({ htpasswd: path.join(work, 'htpasswd') });
    hello = await buildImageLayout(path.join(work, 'hello'), 'v1', 'mirror-hello', [8 * 1024, 64 * 1024]);
    multi = await buildMultiArchLayout(path.join(work, 'multi'), 'v1', 'mirror-multi');
    await skopeo.copy(ociRef(hello.dir, 'v1'), dockerRef(upstream.host, 'library/stowage-mirror-hello', 'v1'), ['--dest-creds', creds('alice')]);
    await skopeo.copy(ociRef(multi.dir, 'v1'), dockerRef(upstream.host, 'platforms/app', 'v1'), ['--dest-creds', creds('alice'), '--all']);
    // the whole namespace (what dockerd asks a mirror for) and a prefixed upstream, both the same distribution
    mirror = await startMirror({
      remoteurl: upstream.url,
      username: 'alice',
      password: USERS.alice,
      upstreams: [{ name: 'dist', remoteurl: upstream.url, username: 'alice', password: USERS.alice, prefix: 'mirror/dist' }],
    });
    daemons = await startDockerDaemons(path.join(work, 'docker'), { registryMirrors: [mirror.url] });
  }, 600_000);

  afterAll(async () => {
    await daemons?.close();
    await mirror?.close();
    await upstream?.close();
  }, 60_000);

  it('dockerd with registry-mirrors pulls an image only the upstream holds, and the mirror keeps it', async () => {
    const env = { DOCKER_HOST: daemons!.dockerHost, DOCKER_CONFIG: path.join(work, 'docker-config') };
    const pull = await docker(['pull', 'stowage-mirror-hello:v1'], env);
    expect(pull.status, pull.out).toBe(0);
    const inspect = await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', 'stowage-mirror-hello:v1'], env);
    expect(inspect.status, inspect.out).toBe(0);
    expect(JSON.parse(inspect.out)).toEqual([`stowage-mirror-hello@${hello.rootDigest}`]);
    // what docker pulled went through stowage and stayed there
    const stored = await storedBlobs(mirror.rootdirectory);
    for (const digest of hello.blobDigests) expect(stored.get(digest), digest).toBe(digest);
  });

  it('skopeo copies a multi-arch index with --all through a prefixed upstream, every digest the upstream\'s', async () => {
    const dir = path.join(work, 'multi-pulled');
    await skopeo.copy(dockerRef(mirror.host, 'mirror/dist/platforms/app', 'v1'), ociRef(dir, 'v1'), ['--all']);
    const pulled = await readLayout(dir);
    const upstreamDigest = JSON.parse((await skopeo.inspect(dockerRef(upstream.host, 'platforms/app', 'v1'), ['--creds', creds('alice')])).stdout) as { Digest: string };
    expect(pulled.tags.get('v1')).toBe(upstreamDigest.Digest);
    expect(pulled.tags.get('v1')).toBe(multi.rootDigest);
    expect(new Set(pulled.blobs.keys())).toEqual(new Set(multi.blobDigests));
    for (const [digest, actual] of pulled.blobs) expect(actual).toBe(digest);
  });
});

describe('through a mirror of stowage with token authentication', { timeout: 300_000 }, () => {
  let peer: AuthRegistry;
  let mirror: RunningMirror;
  let image: BuiltLayout;

  beforeAll(async () => {
    peer = await startAuthRegistry((dir) => ({
      htpasswd: { realm: 'peer', path: `${dir}/htpasswd` },
      token: { realm: '/auth/token', service: 'stowage-peer', issuer: 'stowage-peer' },
      tokenserver: { expiration: '5m' },
      access: {
        groups: {},
        anonymouspull: [],
        rules: [
          { repositories: ['**'], users: ['alice'], groups: [], actions: ['pull', 'push'] },
          { repositories: ['shared/**'], users: ['bob'], groups: [], actions: ['pull'] },
        ],
      },
    }));
    image = await buildImageLayout(path.join(work, 'peer-image'), 'v1', 'mirror-peer', [16 * 1024]);
    const host = new URL(peer.url).host;
    await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(host, 'shared/app', 'v1'), ['--dest-creds', creds('alice')]);
    await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(host, 'private/app', 'v1'), ['--dest-creds', creds('alice')]);
    mirror = await startMirror({ upstreams: [{ name: 'peer', remoteurl: peer.url, username: 'bob', password: USERS.bob, prefix: 'peer' }] });
  }, 300_000);

  afterAll(async () => {
    await mirror?.close();
    await peer?.close();
  }, 60_000);

  it('answers the peer\'s Bearer challenge with a token from its token server and serves the image', async () => {
    const unauthenticated = await peer.send('GET', '/v2/shared/app/manifests/v1');
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    const dir = path.join(work, 'peer-pulled');
    await skopeo.copy(dockerRef(mirror.host, 'peer/shared/app', 'v1'), ociRef(dir, 'v1'));
    const pulled = await readLayout(dir);
    expect(pulled.tags.get('v1')).toBe(image.rootDigest);
    expect(new Set(pulled.blobs.keys())).toEqual(new Set(image.blobDigests));
  });

  it('answers a repository the peer refuses the mirror\'s user as the upstream\'s trouble, naming the user and never the password', async () => {
    const response = await request(`${mirror.url}/v2/peer/private/app/manifests/v1`, { method: 'GET' });
    const body = await response.body.text();
    expect(response.statusCode, body).toBe(503);
    const [error] = (JSON.parse(body) as { errors: { code: string; message: string }[] }).errors;
    expect(error!.code).toBe('UNAVAILABLE');
    expect(error!.message).toContain('refused the credentials configured for it (user bob)');
    expect(body).not.toContain(USERS.bob!);
  });
});

describe('when the upstream dies in the middle of a layer', { timeout: 300_000 }, () => {
  let upstream: RunningRegistry;
  let proxy: UpstreamProxy;
  let mirror: RunningMirror;
  let image: BuiltLayout;
  let bigLayer: string;

  beforeAll(async () => {
    upstream = await startDistribution();
    image = await buildImageLayout(path.join(work, 'flaky'), 'v1', 'mirror-flaky', [4 * 1024, 2 * 1024 * 1024]);
    await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(upstream.host, 'flaky/app', 'v1'));
    const manifest = JSON.parse(await readFile(path.join(image.dir, 'blobs', 'sha256', image.rootDigest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
    bigLayer = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a)).digest;
    proxy = await startUpstreamProxy(upstream.url);
    mirror = await startMirror({ upstreams: [{ name: 'flaky', remoteurl: proxy.url, prefix: 'flaky-mirror' }] });
  }, 300_000);

  afterAll(async () => {
    await mirror?.close();
    await proxy?.close();
    await upstream?.close();
  }, 60_000);

  it('stores nothing of the broken layer, serves what was complete, and completes the pull once the upstream is back', async () => {
    // the upstream goes down once 300 KiB of the 2 MiB layer have passed
    const held = proxy.holdAfter(new RegExp(`/blobs/${bigLayer}$`), 300 * 1024);
    const broken = skopeo.copy(dockerRef(mirror.host, 'flaky-mirror/flaky/app', 'v1'), ociRef(path.join(work, 'flaky-broken'), 'v1'));
    await held.reached;
    proxy.setDown(true);
    await expect(broken).rejects.toThrow();
    // the failed fetch's upload is given back (no partial upload left in storage)
    await until(async () => (await uploadFolders(mirror.rootdirectory)).length === 0, 'the broken fetch leaves no upload behind');

    const stored = await storedBlobs(mirror.rootdirectory);
    expect(stored.has(bigLayer)).toBe(false);
    expect(existsSync(blobData(mirror.rootdirectory, bigLayer))).toBe(false);
    // every blob the mirror holds is whole, and it serves each with the upstream down
    for (const [digest, actual] of stored) {
      expect(actual, digest).toBe(digest);
      const response = await request(`${mirror.url}/v2/flaky-mirror/flaky/app/blobs/${digest}`);
      expect(response.statusCode).toBe(200);
      expect(sha256(Buffer.from(await response.body.arrayBuffer()))).toBe(digest);
    }
    // the manifest came first and was complete: served with the upstream down
    const manifest = await request(`${mirror.url}/v2/flaky-mirror/flaky/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.statusCode).toBe(200);
    expect(sha256(Buffer.from(await manifest.body.arrayBuffer()))).toBe(image.rootDigest);
    const missing = await request(`${mirror.url}/v2/flaky-mirror/flaky/app/blobs/${bigLayer}`);
    await missing.body.dump();
    expect(missing.statusCode).not.toBe(200);

    proxy.setDown(false);
    const dir = path.join(work, 'flaky-pulled');
    await skopeo.copy(dockerRef(mirror.host, 'flaky-mirror/flaky/app', 'v1'), ociRef(dir, 'v1'));
    const pulled = await readLayout(dir);
    expect(pulled.tags.get('v1')).toBe(image.rootDigest);
    for (const [digest, actual] of pulled.blobs) expect(actual).toBe(digest);
    expect((await storedBlobs(mirror.rootdirectory)).get(bigLayer)).toBe(bigLayer);
  });
});
