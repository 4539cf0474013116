/**
 * Scheduled sync (proxy.upstreams[].sync) against a real upstream: CNCF distribution 2.8 (Debian's
 * docker-registry) behind htpasswd. One run, triggered directly, stores the chosen repositories' matching
 * tags (an image index with all its children, and every blob); after it, skopeo pulls them from stowage
 * with the upstream stopped, byte for byte what the upstream held. A second run fetches nothing again.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { htpasswdText, USERS } from '../auth/support.js';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { startDistribution } from '../support/distribution.js';
import { startMirror, type RunningMirror } from '../support/mirror.js';
import { buildImageLayout, buildMultiArchLayout, readLayout, type BuiltLayout } from '../support/oci-layout.js';
import type { RunningRegistry } from '../support/registry-under-test.js';
import { dockerRef, ociRef, Skopeo } from '../support/skopeo.js';

let work: string;
let skopeo: Skopeo;
let upstream: RunningRegistry | undefined;
let mirror: RunningMirror | undefined;
const images: Record<string, BuiltLayout> = {};
const creds = `alice:${USERS.alice}`;

beforeAll(async () => {
  skopeo = await Skopeo.create();
  work = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-sync-'));
  await writeFile(path.join(work, 'htpasswd'), htpasswdText());
  upstream = await startDistribution({ htpasswd: path.join(work, 'htpasswd') });
  images.single = await buildImageLayout(path.join(work, 'single'), 'v1.0.0', 'sync-single', [8 * 1024, 96 * 1024]);
  images.multi = await buildMultiArchLayout(path.join(work, 'multi'), 'v1.1.0', 'sync-multi');
  images.nightly = await buildImageLayout(path.join(work, 'nightly'), 'nightly', 'sync-nightly', [4 * 1024]);
  images.tool = await buildImageLayout(path.join(work, 'tool'), 'v2.0.0', 'sync-tool', [4 * 1024]);
  const push = (image: BuiltLayout, repository: string, tag: string, all = false) =>
    skopeo.copy(ociRef(image.dir, image.tag), dockerRef(upstream!.host, repository, tag), ['--dest-creds', creds, ...(all ? ['--all'] : [])]);
  await push(images.single!, 'team/app', 'v1.0.0');
  await push(images.single!, 'team/app', 'latest');
  await push(images.single!, 'team/app', 'v1.2.0');
  await push(images.multi!, 'team/app', 'v1.1.0', true);
  await push(images.nightly!, 'team/app', 'nightly');
  await push(images.tool!, 'team/tool', 'v2.0.0');
  await push(images.tool!, 'elsewhere/tool', 'v2.0.0');
  mirror = await startMirror({
    upstreams: [
      {
        name: 'dist',
        remoteurl: upstream.url,
        username: 'alice',
        password: USERS.alice,
        prefix: 'mirror/dist',
        sync: [{ repositories: ['team/*'], tags: ['v*'], semver: true, interval: '24h' }],
      },
    ],
  }, { http: { addr: '127.0.0.1:0', debug: { addr: '127.0.0.1:0', prometheus: { enabled: true, path: '/metrics' } } } });
}, 300_000);

afterAll(async () => {
  await mirror?.close();
  await upstream?.close();
  await skopeo?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('stowage mirror sync (one run from the command line, no server)', { timeout: 120_000 }, () => {
  const configFile = (sync: unknown[]): string =>
    stringify({
      version: 0.1,
      log: { level: 'warn' },
      storage: { filesystem: { rootdirectory: path.join(work, 'cli-storage') } },
      proxy: { upstreams: [{ name: 'dist', remoteurl: upstream!.url, username: 'alice', password: USERS.alice, prefix: 'mirror/dist', sync }] },
    });

  it('stores what the entries select and reports it; exit 1 naming what failed, never the password', async () => {
    await ensureBuilt();
    await writeFile(path.join(work, 'cli.yaml'), configFile([{ repositories: ['team/tool', 'team/missing'], tags: ['v2.*'] }]));
    const run = await runCli(['mirror', 'sync', '--config', 'cli.yaml', '--json'], { cwd: work });
    const [report] = JSON.parse(run.stdout) as { tags: number; blobsFetched: number; failures: { repository: string }[] }[];
    expect(report).toMatchObject({ tags: 1, blobsFetched: 2 });
    expect(report!.failures.map((failure) => failure.repository)).toEqual(['team/missing']);
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(USERS.alice!);

    await writeFile(path.join(work, 'cli.yaml'), configFile([{ repositories: ['team/tool'] }]));
    const again = await runCli(['mirror', 'sync', '--config', 'cli.yaml'], { cwd: work });
    expect(again.stdout).toBe('dist: 1 repositories, 1 tags, 1 manifests, 0 blobs fetched, 2 already held, 0 failures\n');
    expect(again.code).toBe(0);

    const unknown = await runCli(['mirror', 'sync', '--config', 'cli.yaml', '--upstream', 'nope'], { cwd: work });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no upstream named "nope" has sync entries');
  });
});

describe('scheduled sync from distribution 2.8 with htpasswd', { timeout: 300_000 }, () => {
  it('one run stores the matching tags of the matching repositories, indexes with all their children', async () => {
    const [report] = await mirror!.running.syncNow();
    // single (manifest, config, 2 layers) + multi (index, 2 × (manifest, config, 2 layers)) + tool (manifest, config, 1 layer)
    expect(report, JSON.stringify(report)).toMatchObject({ upstream: 'dist', repositories: 2, tags: 4, manifests: 1 + 3 + 1, failures: [] });
    // The entry's timer fires first after a random delay of up to a minute (sync-scheduler.ts), so now and then
    // it ran before this call, which then held what it fetched: either way each blob was fetched exactly once
    // (the counters below count every run of the process).
    expect(report!.blobsFetched + report!.blobsHeld, JSON.stringify(report)).toBe(3 + 6 + 2);
    expect([0, 3 + 6 + 2], JSON.stringify(report)).toContain(report!.blobsFetched);
    const metrics = await (await fetch(`${mirror!.running.debugURL}/metrics`)).text();
    expect(metrics).toContain('stowage_mirror_sync_tags_total{upstream="dist",result="stored"} 4');
    expect(metrics).toContain('stowage_mirror_sync_blobs_total{upstream="dist",result="fetched"} 11');
  });

  it('a second run finds everything stored and fetches no blob again', async () => {
    const [report] = await mirror!.running.syncNow();
    expect(report).toMatchObject({ repositories: 2, tags: 4, blobsFetched: 0, blobsHeld: 11, failures: [] });
  });

  it('moves a tag the upstream moved, though its ttl (168h by default) has not passed', async () => {
    await skopeo.copy(ociRef(images.tool!.dir, images.tool!.tag), dockerRef(upstream!.host, 'team/app', 'v1.2.0'), ['--dest-creds', creds]);
    const [report] = await mirror!.running.syncNow();
    expect(report).toMatchObject({ tags: 4, blobsFetched: 0, failures: [] });
    const response = await request(`${mirror!.url}/v2/mirror/dist/team/app/manifests/v1.2.0`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    await response.body.dump();
    expect(response.headers['docker-content-digest']).toBe(images.tool!.rootDigest);
  });

  it('with the upstream stopped, skopeo pulls the synced tags from stowage, identical to what the upstream held', async () => {
    await upstream!.close();
    upstream = undefined;
    const pulled = async (repository: string, tag: string, all = false): Promise<Awaited<ReturnType<typeof readLayout>>> => {
      const dir = path.join(work, `pulled-${repository.replace(/\//g, '-')}-${tag}`);
      await skopeo.copy(dockerRef(mirror!.host, `mirror/dist/${repository}`, tag), ociRef(dir, tag), all ? ['--all'] : []);
      return readLayout(dir);
    };
    const multi = await pulled('team/app', 'v1.1.0', true);
    expect(multi.tags.get('v1.1.0')).toBe(images.multi!.rootDigest);
    expect(new Set(multi.blobs.keys())).toEqual(new Set(images.multi!.blobDigests));
    for (const [digest, actual] of multi.blobs) expect(actual).toBe(digest);
    const single = await pulled('team/app', 'v1.0.0');
    expect(single.tags.get('v1.0.0')).toBe(images.single!.rootDigest);
    const tool = await pulled('team/tool', 'v2.0.0');
    expect(tool.tags.get('v2.0.0')).toBe(images.tool!.rootDigest);
  });

  it('did not store tags or repositories outside the rules (they need the stopped upstream)', async () => {
    for (const [repository, tag] of [['team/app', 'latest'], ['team/app', 'nightly'], ['elsewhere/tool', 'v2.0.0']] as const) {
      await expect(skopeo.inspect(dockerRef(mirror!.host, `mirror/dist/${repository}`, tag), ['--raw']), `${repository}:${tag}`).rejects.toThrow();
    }
  });

  it('a run while the upstream is down reports the failure and keeps what was stored', async () => {
    const [report] = await mirror!.running.syncNow();
    expect(report!.tags).toBe(0);
    expect(report!.failures.length).toBeGreaterThan(0);
    expect(report!.failures[0]!.message).toMatch(/cannot be reached/);
    const again = path.join(work, 'again');
    await skopeo.copy(dockerRef(mirror!.host, 'mirror/dist/team/app', 'v1.0.0'), ociRef(again, 'v1.0.0'));
    expect((await readLayout(again)).tags.get('v1.0.0')).toBe(images.single!.rootDigest);
  });
});
