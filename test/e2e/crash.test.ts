/**
 * Crash consistency: the real `stowage serve` process is killed with SIGKILL while clients push blobs
 * (monolithic and chunked) and manifests concurrently, then restarted on the same storage. What it
 * acknowledged (201/202) must be there, whole; nothing half-written may be served; every listed tag must
 * resolve; and upload purging must remove what the interrupted writes left behind.
 *
 * The moments of the kills are seeded (the kill follows the n-th response of a round, n drawn from the seed),
 * as are the sizes and the order of operations; STOWAGE_CRASH_SEED replays a failing run. Whatever the seed,
 * the run checks something: while no manifest has been acknowledged a kill waits for the next response after
 * one is, and while no kill has interrupted a write, rounds are added (up to as many again).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { EmulatorCluster } from '../elliptics/emulator.js';
import { ellipticsDriver } from '../elliptics/context.js';
import { startOssEmulator, type OssEmulator } from '../oss/emulator.js';
import { ossDriverLines, startStowageProcessOn } from '../oss/stowage-process.js';
import { deterministicBuffer, getBlobDigest, getManifest, startStowageProcess, type ServerProcess } from '../support/index.js';

const SEED = Number(process.env.STOWAGE_CRASH_SEED ?? 2);
const ROUNDS = Number(process.env.STOWAGE_CRASH_ROUNDS ?? 5);
const WORKERS = 4;
const REPOSITORIES = ['crash/alpha', 'crash/beta'];

/** mulberry32: a small seeded generator, so a failing run can be replayed */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface PushedBlob {
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
}

interface PushedManifest {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
}

/** What the clients sent, and what the server acknowledged, over every round. */
class Ledger {
  readonly ackedBlobs: PushedBlob[] = [];
  readonly attemptedBlobs: PushedBlob[] = [];
  readonly ackedManifests: PushedManifest[] = [];
  readonly attemptedManifests: PushedManifest[] = [];
  /** per moving tag: whether a push of it was acknowledged, and the digests it may name (the last acknowledged one and any attempted after it) */
  readonly movingTags = new Map<string, { acked: boolean; allowed: Set<string> }>();

  attemptMovingTag(repository: string, tag: string, digest: string): void {
    const key = `${repository}:${tag}`;
    const entry = this.movingTags.get(key) ?? { acked: false, allowed: new Set<string>() };
    entry.allowed.add(digest);
    this.movingTags.set(key, entry);
  }

  ackMovingTag(repository: string, tag: string, digest: string): void {
    this.movingTags.set(`${repository}:${tag}`, { acked: true, allowed: new Set([digest]) });
  }
}

/** A client of one round; every response counts towards the kill. */
class RoundClient {
  responses = 0;
  stopped = false;
  private readonly agent = new Agent({ connections: WORKERS * 2 });

  constructor(
    readonly url: string,
    private readonly onResponse: (count: number) => void,
  ) {}

  async send(method: 'GET' | 'POST' | 'PATCH' | 'PUT', target: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; location?: string; body: Buffer }> {
    if (this.stopped) throw new Error('round over');
    const response = await request(new URL(target, this.url), { method, body, headers, dispatcher: this.agent });
    const received = Buffer.from(await response.body.arrayBuffer());
    this.responses += 1;
    this.onResponse(this.responses);
    const location = response.headers.location;
    return { status: response.statusCode, location: Array.isArray(location) ? location[0] : location, body: received };
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

const expectStatus = (response: { status: number; body: Buffer }, status: number, what: string): void => {
  if (response.status !== status) throw new Error(`${what}: expected ${status}, got ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
};

async function pushMonolithic(client: RoundClient, ledger: Ledger, blob: PushedBlob, content: Buffer): Promise<void> {
  ledger.attemptedBlobs.push(blob);
  const response = await client.send('POST', `/v2/${blob.repository}/blobs/uploads/?digest=${blob.digest}`, content, { 'content-type': 'application/octet-stream' });
  expectStatus(response, 201, `monolithic push of ${blob.digest}`);
  ledger.ackedBlobs.push(blob);
}

async function pushChunked(client: RoundClient, ledger: Ledger, blob: PushedBlob, content: Buffer, random: () => number): Promise<void> {
  ledger.attemptedBlobs.push(blob);
  const started = await client.send('POST', `/v2/${blob.repository}/blobs/uploads/`);
  expectStatus(started, 202, 'upload start');
  let location = started.location!;
  let offset = 0;
  while (offset < content.length) {
    const size = Math.min(content.length - offset, 32 * 1024 + Math.floor(random() * 256 * 1024));
    const chunk = content.subarray(offset, offset + size);
    const patched = await client.send('PATCH', location, chunk, { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + size - 1}` });
    expectStatus(patched, 202, `chunk ${offset}-${offset + size - 1} of ${blob.digest}`);
    location = patched.location!;
    offset += size;
  }
  const separator = location.includes('?') ? '&' : '?';
  const finished = await client.send('PUT', `${location}${separator}digest=${blob.digest}`);
  expectStatus(finished, 201, `upload close of ${blob.digest}`);
  ledger.ackedBlobs.push(blob);
}

async function pushBlob(client: RoundClient, ledger: Ledger, repository: string, seed: string, random: () => number): Promise<PushedBlob> {
  const chunked = random() < 0.5;
  const size = chunked ? 64 * 1024 + Math.floor(random() * 1024 * 1024) : 1 + Math.floor(random() * 384 * 1024);
  const content = deterministicBuffer(seed, size);
  const blob = { repository, digest: sha256(content), size };
  if (chunked) await pushChunked(client, ledger, blob, content, random);
  else await pushMonolithic(client, ledger, blob, content);
  return blob;
}

async function pushImage(client: RoundClient, ledger: Ledger, repository: string, seed: string, movingTag: string, random: () => number): Promise<void> {
  const config = await pushBlob(client, ledger, repository, `${seed}/config`, random);
  const layer = await pushBlob(client, ledger, repository, `${seed}/layer`, random);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer.digest, size: layer.size }],
      annotations: { seed },
    }),
  );
  const digest = sha256(manifest);
  const tag = seed.replace(/[^A-Za-z0-9]/g, '-');
  const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
  ledger.attemptedManifests.push({ repository, tag, digest });
  expectStatus(await client.send('PUT', `/v2/${repository}/manifests/${tag}`, manifest, headers), 201, `manifest ${tag}`);
  ledger.ackedManifests.push({ repository, tag, digest });
  ledger.attemptMovingTag(repository, movingTag, digest);
  expectStatus(await client.send('PUT', `/v2/${repository}/manifests/${movingTag}`, manifest, headers), 201, `manifest ${movingTag}`);
  ledger.ackMovingTag(repository, movingTag, digest);
}

/** One worker: pushes until its round's client stops (the server was killed). */
async function work(client: RoundClient, ledger: Ledger, round: number, worker: number, random: () => number): Promise<void> {
  const repository = REPOSITORIES[worker % REPOSITORIES.length]!;
  for (let i = 0; !client.stopped; i++) {
    const seed = `r${round}w${worker}i${i}`;
    if (random() < 0.6) await pushImage(client, ledger, repository, seed, `w${worker}-latest`, random);
    else await pushBlob(client, ledger, repository, seed, random);
  }
}

/** Checks what the restarted server serves against what was sent and acknowledged. */
async function verify(url: string, ledger: Ledger): Promise<void> {
  for (const blob of ledger.ackedBlobs) {
    const served = await getBlobDigest(url, blob.repository, blob.digest);
    expect(served, `acknowledged blob ${blob.digest} in ${blob.repository}`).toEqual({ status: 200, digest: blob.digest, size: blob.size });
  }
  for (const blob of ledger.attemptedBlobs) {
    const served = await getBlobDigest(url, blob.repository, blob.digest);
    if (served.status === 404) continue;
    expect(served, `blob ${blob.digest} in ${blob.repository} is served whole or not at all`).toEqual({ status: 200, digest: blob.digest, size: blob.size });
  }
  for (const manifest of ledger.ackedManifests) {
    for (const reference of [manifest.tag, manifest.digest]) {
      const served = await getManifest(url, manifest.repository, reference);
      expect({ status: served.status, digest: sha256(served.body) }, `acknowledged manifest ${manifest.repository}:${reference}`).toEqual({ status: 200, digest: manifest.digest });
    }
  }
  for (const manifest of ledger.attemptedManifests) {
    const served = await getManifest(url, manifest.repository, manifest.digest);
    if (served.status !== 404) expect({ status: served.status, digest: sha256(served.body) }).toEqual({ status: 200, digest: manifest.digest });
  }
  for (const [key, { acked, allowed }] of ledger.movingTags) {
    const [repository, tag] = key.split(':') as [string, string];
    const served = await getManifest(url, repository, tag);
    if (!acked && served.status === 404) continue;
    expect(served.status, `moving tag ${key}`).toBe(200);
    expect([...allowed], `${key} names the last acknowledged manifest or one pushed after it`).toContain(sha256(served.body));
  }
  for (const repository of REPOSITORIES) {
    const listing = await request(`${url}/v2/${repository}/tags/list`);
    const body = (await listing.body.json()) as { tags?: string[] | null };
    if (listing.statusCode === 404) {
      expect(ledger.ackedManifests.some((m) => m.repository === repository), `${repository} is unknown though manifests were acknowledged`).toBe(false);
      continue;
    }
    expect(listing.statusCode).toBe(200);
    for (const tag of body.tags ?? []) {
      const served = await getManifest(url, repository, tag);
      expect(served.status, `listed tag ${repository}:${tag} resolves`).toBe(200);
      expect(sha256(served.body), `listed tag ${repository}:${tag} serves the manifest its digest names`).toBe(served.dockerContentDigest);
    }
  }
}

/** Storage entries an interrupted write leaves on a filesystem: temporary and partial files, and upload sessions. */
async function filesystemLeftovers(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(dir, entry.name);
      if (entry.name.includes('~')) found.push(full);
      else if (path.basename(dir) === '_uploads') found.push(full);
      if (entry.isDirectory()) await visit(full);
    }
  };
  await visit(root);
  return found;
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A stowage process on some storage, started again and again on the same storage. */
interface CrashBackend {
  start(purging?: { age: string; interval: string }): Promise<{ url: string; server: ServerProcess; close(): Promise<void> }>;
  /** what interrupted writes left: temporary objects, partial uploads, upload sessions */
  leftovers(): Promise<string[]>;
  close(): Promise<void>;
}

function describeCrashConsistency(name: string, rounds: number, backend: () => Promise<CrashBackend>): void {
  describe(`stowage killed with SIGKILL during concurrent pushes (${name})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    it(
      'keeps every acknowledged blob and manifest whole, lists only tags that resolve, and purges what interrupted writes left',
      async () => {
        const storage = await backend();
        cleanups.push(() => storage.close());
        const random = seededRandom(SEED);
        const ledger = new Ledger();
        let killedWithLeftovers = 0;

        // the rounds asked for, then more while no kill has left anything for the purge to check
        for (let round = 0; round < rounds || (killedWithLeftovers === 0 && round < 2 * rounds); round++) {
          const server = await storage.start();
          cleanups.push(() => server.close());
          // what earlier rounds' kills left must not change what this server serves
          await verify(server.url, ledger);

          const killAfter = 4 + Math.floor(random() * 60);
          const exited = once(server.server.child, 'exit');
          const client = new RoundClient(server.url, (count) => {
            // moved later, never earlier: a run whose kills all came before any manifest's 201 would check no manifest
            if (count >= killAfter && ledger.ackedManifests.length > 0 && !client.stopped) {
              client.stopped = true;
              server.server.child.kill('SIGKILL');
            }
          });
          const workers = Array.from({ length: WORKERS }, (_, worker) => work(client, ledger, round, worker, seededRandom(SEED + round * 100 + worker)));
          const outcomes = await Promise.allSettled(workers);
          await exited;
          await client.close();
          expect(server.server.child.signalCode, `round ${round}: the server died of the kill, not of something else:\n${server.server.output()}`).toBe('SIGKILL');
          // a worker may only stop because the kill cut its connection (or the round ended)
          for (const outcome of outcomes) {
            if (outcome.status === 'rejected') expect(String(outcome.reason), `round ${round}`).not.toMatch(/expected \d+, got/);
          }
          if ((await storage.leftovers()).length > 0) killedWithLeftovers += 1;
          await server.close();
        }

        expect(ledger.ackedBlobs.length, 'the rounds acknowledged some blobs').toBeGreaterThan(0);
        expect(ledger.ackedManifests.length, 'the rounds acknowledged some manifests').toBeGreaterThan(0);
        expect(killedWithLeftovers, 'some kill interrupted a write (else the purge below checks nothing)').toBeGreaterThan(0);

        const purging = await storage.start({ age: '1ms', interval: '200ms' });
        cleanups.push(() => purging.close());
        await waitFor(async () => (await storage.leftovers()).length === 0, 'upload purging to remove every leftover', 30_000).catch(async (err: Error) => {
          throw new Error(`${err.message}; still there:\n${(await storage.leftovers()).join('\n')}`);
        });
        await verify(purging.url, ledger);
      },
      240_000,
    );
  });
}

describeCrashConsistency('filesystem', ROUNDS, async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-crash-'));
  return {
    start: (purging) => startStowageProcess({ rootdirectory: root, ...(purging ? { uploadPurging: purging } : {}) }),
    leftovers: () => filesystemLeftovers(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

// fewer rounds: every request is a few round trips to the emulator, so a round takes several times longer
describeCrashConsistency('alioss on the OSS emulator', Math.max(1, Math.ceil(ROUNDS / 2)), async () => {
  const emulator: OssEmulator = await startOssEmulator({ buckets: ['stowage'] });
  const driverLines = ossDriverLines(emulator, 'stowage');
  return {
    start: (purging) =>
      startStowageProcessOn([
        ...driverLines,
        ...(purging ? ['  maintenance:', '    uploadpurging:', '      enabled: true', `      age: ${purging.age}`, `      interval: ${purging.interval}`] : []),
      ]),
    async leftovers() {
      const keys = [...emulator.bucket('stowage').keys()].filter((key) => key.includes('~') || key.includes('/_uploads/'));
      const open = emulator.openUploads();
      return open > 0 ? [...keys, `${open} multipart uploads in progress`] : keys;
    },
    close: () => emulator.close(),
  };
});

// Elliptics lists through journals the driver keeps itself: a delete cut short must leave no listed tag that
// does not resolve, and what it left is finished by upload purging (its pending deletes, see the plugin's
// pending-deletes.ts). Fewer rounds, as for OSS: every request is several round trips to the emulated nodes.
describeCrashConsistency('elliptics on emulated nodes', Math.max(1, Math.ceil(ROUNDS / 2)), async () => {
  const cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }], { idsPerBackend: 2 }).start();
  const inspector = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2] });
  const driverLines = ['  elliptics:', `    nodes: "${cluster.remotes.join(' ')}"`, '    groups: [1, 2]'];
  return {
    start: (purging) =>
      startStowageProcessOn([
        ...driverLines,
        ...(purging ? ['  maintenance:', '    uploadpurging:', '      enabled: true', `      age: ${purging.age}`, `      interval: ${purging.interval}`] : []),
      ]),
    async leftovers() {
      // upload sessions still listed, and deletes a kill cut short (what upload purging finishes)
      const found: string[] = [];
      for (const repository of REPOSITORIES) {
        const sessions = await inspector.list(`/docker/registry/v2/repositories/${repository}/_uploads`).catch(() => []);
        found.push(...sessions);
      }
      found.push(...(await inspector.purgeTemporaries!(new Date(Date.now() + 24 * 3600_000), true)));
      return found;
    },
    async close() {
      await inspector.close?.();
      await cluster.stop();
    },
  };
});
