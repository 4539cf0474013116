/**
 * Retention policies: keep the last N tags by push time, tags matching a pattern, what was pulled recently;
 * delete untagged manifests older than a duration (children and referrers of kept ones stay). Push times are
 * the times storage gives the tag and revision links (set here with utimes, as if pushed days apart); pull
 * times are recorded under `_stowage/`, which distribution 2.8 ignores while it serves the same folder.
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';
import { garbageCollectWithDistribution, startDistribution } from '../support/index.js';
import { revisionFile, StoreClient, type PushedImage } from './store.js';

const DAY = 24 * 3600_000;
const V2 = 'docker/registry/v2/repositories';

describe('retention policies (filesystem)', () => {
  let workdir: string;
  let root: string;
  let configFile: string;
  let server: RunningStowage;
  let client: StoreClient;
  const images = new Map<string, PushedImage>();
  let untaggedOld: PushedImage;
  let untaggedYoung: PushedImage;
  let repushed: PushedImage;
  let signature: PushedImage;
  let elsewhere: PushedImage;

  const age = async (file: string, ms: number): Promise<void> => {
    const when = new Date(Date.now() - ms);
    await utimes(path.join(root, file), when, when);
  };
  const tagLink = (repository: string, tag: string): string => `${V2}/${repository}/_manifests/tags/${tag}/current/link`;

  beforeAll(async () => {
    await ensureBuilt();
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-retention-'));
    root = path.join(workdir, 'store');
    configFile = path.join(workdir, 'stowage.config.yaml');
    await writeFile(
      configFile,
      [
        'version: 0.1',
        'log:',
        '  level: error',
        'http:',
        '  addr: 127.0.0.1:0',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(root)}`,
        '  maintenance:',
        '    retention:',
        '      policies:',
        '        - repositories: ["ret/**"]',
        '          keeplastpushed: 2',
        '          keeptags: ["release-.*"]',
        '          keeppulledwithin: 24h',
        '          deleteuntaggedolderthan: 168h',
        '',
      ].join('\n'),
    );
    // served from that config: its policy keeps what was pulled, so the server records pulls
    server = await startStowage(await loadConfig({ configFile, cwd: workdir, env: {} }));
    client = new StoreClient(server.url);
    const ages: [string, number][] = [['release-1.0', 30 * DAY], ['pulled-old', 20 * DAY], ['old1', 10 * DAY], ['old2', 9 * DAY], ['new1', DAY], ['new2', 2 * 3600_000]];
    for (const [tag, ms] of ages) {
      const image = await client.image('ret/app', tag, `config of ${tag}`, [`layer of ${tag}`]);
      images.set(tag, image);
      await age(tagLink('ret/app', tag), ms);
      await age(revisionFile('ret/app', image.digest), ms);
    }
    untaggedOld = await client.image('ret/app', undefined, 'untagged old config', ['untagged old layer']);
    await age(revisionFile('ret/app', untaggedOld.digest), 40 * DAY);
    untaggedYoung = await client.image('ret/app', undefined, 'untagged young config', ['untagged young layer']);
    await age(revisionFile('ret/app', untaggedYoung.digest), 3600_000);
    repushed = await client.image('ret/app', undefined, 'repushed config', ['repushed layer']);
    await age(revisionFile('ret/app', repushed.digest), 40 * DAY);
    // the same manifest pushed again today: its last push is today, however old its first
    expect((await client.image('ret/app', undefined, 'repushed config', ['repushed layer'])).digest).toBe(repushed.digest);
    signature = await client.image('ret/app', undefined, 'signature config', ['signature'], { subject: images.get('new1')!, artifactType: 'application/vnd.example.sig' });
    await age(revisionFile('ret/app', signature.digest), 40 * DAY);
    elsewhere = await client.image('other/x', 'a', 'config elsewhere', ['layer elsewhere']);
    await age(tagLink('other/x', 'a'), 100 * DAY);

    // a pull: recorded in memory, and written (the first one at once) under _stowage/pulls
    expect(await client.manifestStatus('ret/app', 'pulled-old')).toBe(200);
    const record = path.join(root, '_stowage/pulls/ret/app/_pulls/sha256', images.get('pulled-old')!.digest.slice(7));
    const deadline = Date.now() + 10_000;
    while (!existsSync(record)) {
      if (Date.now() > deadline) throw new Error('the pull was never recorded');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

  }, 120_000);
  afterAll(async () => {
    await server?.close();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('a dry run lists what the policy would delete and deletes nothing; the real run deletes exactly that', async () => {
    const dry = await runCli(['retention', '--dry-run', '--config', configFile], { cwd: workdir });
    expect(dry.code, dry.stderr).toBe(0);
    const old1 = images.get('old1')!;
    const old2 = images.get('old2')!;
    const expected = [
      `tag would be deleted: ret/app:old1 (${old1.digest})`,
      `tag would be deleted: ret/app:old2 (${old2.digest})`,
      ...[untaggedOld, old1, old2].map((image) => `manifest would be deleted: ret/app@${image.digest}`),
    ];
    expect(dry.stdout.trim().split('\n').slice(0, -1).sort()).toEqual(expected.sort());
    expect(dry.stdout).toMatch(/dry run: nothing was deleted; 2 tags and 3 untagged manifests would be deleted/);
    expect(await client.manifestStatus('ret/app', 'old1')).toBe(200);

    const real = await runCli(['retention', '--config', configFile], { cwd: workdir });
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/^2 tags and 3 untagged manifests deleted$/m);
    for (const tag of ['old1', 'old2']) expect(await client.manifestStatus('ret/app', tag), tag).toBe(404);
    for (const tag of ['new1', 'new2', 'release-1.0', 'pulled-old']) expect(await client.manifestStatus('ret/app', tag), tag).toBe(200);
    for (const image of [untaggedOld, old1, old2]) expect(await client.manifestStatus('ret/app', image.digest)).toBe(404);
    expect(await client.manifestStatus('ret/app', untaggedYoung.digest), 'younger than the policy\'s age').toBe(200);
    expect(await client.manifestStatus('ret/app', repushed.digest), 'pushed 40 days ago and again today').toBe(200);
    expect(await client.manifestStatus('ret/app', signature.digest), 'a referrer of a kept tag').toBe(200);
    expect(await client.referrers('ret/app', images.get('new1')!.digest)).toEqual([signature.digest]);
    expect(await client.manifestStatus('other/x', 'a'), 'no policy matches other/x').toBe(200);
  });

  it('distribution 2.8 still serves the folder with stowage\'s records in it, and collects it', async () => {
    const distribution = await startDistribution({ rootdirectory: root });
    try {
      const fromDistribution = new StoreClient(distribution.url);
      for (const tag of ['new1', 'release-1.0', 'pulled-old']) expect(await fromDistribution.manifestStatus('ret/app', tag), tag).toBe(200);
      expect(await fromDistribution.blobIntact('other/x', elsewhere.layers[0]!)).toBe(true);
    } finally {
      await distribution.close();
    }
    await garbageCollectWithDistribution(root);
    expect(existsSync(path.join(root, '_stowage/pulls/ret/app/_pulls/sha256', images.get('pulled-old')!.digest.slice(7)))).toBe(true);
    expect(await client.blobIntact('ret/app', images.get('new2')!.layers[0]!)).toBe(true);
  });
});
