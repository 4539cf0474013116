/**
 * `stowage garbage-collect` against distribution 2.8's `registry garbage-collect` on copies of one store:
 * both must remove the same blobs and manifests, except where stowage is deliberately safer, and each such
 * difference is spelled out here.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { garbageCollectWithDistribution, startStowageInProcess } from '../support/index.js';
import {
  allBlobsOf,
  blobFile,
  isLayerLink,
  layerLinkFile,
  minus,
  pushScenario,
  revisionFile,
  storedFiles,
  StoreClient,
  tagIndexFile,
  type Scenario,
} from './store.js';

describe('stowage garbage-collect removes what distribution 2.8 garbage-collect removes (filesystem)', () => {
  let workdir: string;
  let original: string;
  let scenario: Scenario;
  let before: Set<string>;

  const copyOfStore = async (name: string): Promise<string> => {
    const copy = path.join(workdir, name);
    await cp(original, copy, { recursive: true, preserveTimestamps: true });
    return copy;
  };

  const stowageGc = async (root: string, flags: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> => {
    const configFile = path.join(workdir, `${path.basename(root)}.config.yaml`);
    await writeFile(configFile, ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`, ''].join('\n'));
    return runCli(['garbage-collect', '--config', configFile, ...flags], { cwd: workdir });
  };

  const removedBy = async (root: string): Promise<Set<string>> => minus(before, await storedFiles(root));

  beforeAll(async () => {
    await ensureBuilt();
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-parity-'));
    original = path.join(workdir, 'store');
    const stowage = await startStowageInProcess({ rootdirectory: original });
    try {
      scenario = await pushScenario(new StoreClient(stowage.url));
    } finally {
      await stowage.close();
    }
    before = await storedFiles(original);
  }, 120_000);
  afterAll(async () => {
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  /** Layer links stowage removes beyond distribution 2.8: each names a blob both removed, and none of those is left. */
  const expectOnlyStaleLayerLinks = (extra: Set<string>, removedBlobs: Set<string>, after: Set<string>): void => {
    for (const file of extra) expect(isLayerLink(file), `${file} is a layer link`).toBe(true);
    const hexes = new Set([...removedBlobs].map((file) => file.split('/').at(-2)));
    for (const file of extra) expect(hexes.has(file.split('/').at(-2)), `${file} names a removed blob`).toBe(true);
    for (const file of after) if (isLayerLink(file)) expect(hexes.has(file.split('/').at(-2)), `${file} is left though its blob is gone`).toBe(false);
  };

  it('without --delete-untagged: the same blobs (an orphan upload and a deleted manifest with its config and layer)', async () => {
    const byDistribution = await copyOfStore('distribution-plain');
    const byStowage = await copyOfStore('stowage-plain');
    await garbageCollectWithDistribution(byDistribution);
    const result = await stowageGc(byStowage, []);
    expect(result.code, result.stderr).toBe(0);

    const expected = new Set([scenario.orphan.digest, ...allBlobsOf(scenario.deleted)].map(blobFile));
    const distributionRemoved = await removedBy(byDistribution);
    expect(distributionRemoved).toEqual(expected);
    const stowageRemoved = await removedBy(byStowage);
    expect(new Set([...stowageRemoved].filter((file) => !isLayerLink(file)))).toEqual(expected);
    // the one deliberate difference: the `_layers` links to swept blobs go too (distribution 2.8 leaves them)
    expectOnlyStaleLayerLinks(minus(stowageRemoved, distributionRemoved), expected, await storedFiles(byStowage));
    expect(stowageRemoved).toContain(layerLinkFile('gc/app', scenario.orphan.digest));

    expect(result.stdout).toMatch(/4 repositories, 0 manifests removed, 4 blobs removed \(\d+ B\), \d+ blobs kept/);
  });

  it('with --delete-untagged: the same, except that children of a kept index and referrers of a kept manifest stay', async () => {
    const byDistribution = await copyOfStore('distribution-untagged');
    const byStowage = await copyOfStore('stowage-untagged');
    await garbageCollectWithDistribution(byDistribution, ['--delete-untagged']);
    const result = await stowageGc(byStowage, ['--delete-untagged']);
    expect(result.code, result.stderr).toBe(0);

    const { formerlyTagged, untagged, deleted, orphan, children, signature, otherUntagged, sharedLayer } = scenario;
    // what distribution 2.8 does: every untagged manifest goes (children and referrers too); an index keeps
    // its children's manifest blobs but not their configs and layers, so multi:latest no longer pulls
    const untaggedManifests = [
      ['gc/app', formerlyTagged],
      ['gc/app', untagged],
      ['gc/multi', children[0]!],
      ['gc/multi', children[1]!],
      ['gc/signed', signature],
      ['gc/other', otherUntagged],
    ] as const;
    const childBlobs = children.flatMap((child) => [child.config, ...child.layers]).filter((digest) => digest !== sharedLayer);
    const distributionExpected = new Set([
      ...untaggedManifests.map(([repository, image]) => revisionFile(repository, image.digest)),
      tagIndexFile('gc/app', 'v2', formerlyTagged.digest),
      ...[orphan.digest, ...allBlobsOf(deleted), ...allBlobsOf(formerlyTagged), ...allBlobsOf(untagged), ...childBlobs, ...allBlobsOf(signature)]
        .concat(otherUntagged.digest, otherUntagged.config)
        .map(blobFile),
    ]);
    const distributionRemoved = await removedBy(byDistribution);
    expect(distributionRemoved).toEqual(distributionExpected);

    // stowage's deliberate differences with distribution 2.8:
    // 1. the children of the kept index gc/multi:latest stay, with their configs and layers;
    // 2. the referrer (signature) of the kept gc/signed:v1 stays, with its blobs;
    const keptBySafety = new Set([
      ...children.map((child) => revisionFile('gc/multi', child.digest)),
      ...childBlobs.map(blobFile),
      revisionFile('gc/signed', signature.digest),
      ...allBlobsOf(signature).map(blobFile),
    ]);
    const stowageRemoved = await removedBy(byStowage);
    expect(new Set([...stowageRemoved].filter((file) => !isLayerLink(file)))).toEqual(minus(distributionExpected, keptBySafety));
    // 3. the `_layers` links to swept blobs go too
    const removedBlobFiles = new Set([...stowageRemoved].filter((file) => file.endsWith('/data')));
    expectOnlyStaleLayerLinks(minus(stowageRemoved, distributionRemoved), removedBlobFiles, await storedFiles(byStowage));

    // what stowage kept still serves: every tag, the index with its children, the referrer
    const served = await startStowageInProcess({ rootdirectory: byStowage });
    try {
      const client = new StoreClient(served.url);
      for (const [repository, tag] of [['gc/app', 'v1'], ['gc/app', 'v2'], ['gc/multi', 'latest'], ['gc/signed', 'v1']]) {
        expect(await client.manifestStatus(repository!, tag!), `${repository}:${tag}`).toBe(200);
      }
      for (const child of children) {
        for (const digest of allBlobsOf(child)) expect(await client.blobIntact('gc/multi', digest), digest).toBe(true);
      }
      expect(await client.referrers('gc/signed', scenario.signed.digest)).toEqual([signature.digest]);
      expect(await client.manifestStatus('gc/app', formerlyTagged.digest)).toBe(404);
    } finally {
      await served.close();
    }
  });

  it('a repository with manifests but no tag at all: distribution 2.8 aborts --delete-untagged, stowage removes them', async () => {
    const byDistribution = await copyOfStore('distribution-tagless');
    const byStowage = await copyOfStore('stowage-tagless');
    for (const root of [byDistribution, byStowage]) await rm(path.join(root, 'docker/registry/v2/repositories/gc/other/_manifests/tags'), { recursive: true });
    const untouched = await storedFiles(byDistribution);
    // distribution 2.8 asks the tag store for every tag of the repository and gives up on "unknown repository"
    await expect(garbageCollectWithDistribution(byDistribution, ['--delete-untagged'])).rejects.toThrow(/unknown repository name=gc\/other/);
    expect(await storedFiles(byDistribution)).toEqual(untouched);

    const result = await stowageGc(byStowage, ['--delete-untagged']);
    expect(result.code, result.stderr).toBe(0);
    const after = await storedFiles(byStowage);
    for (const image of [scenario.otherUntagged, scenario.otherTagged]) {
      expect(after.has(revisionFile('gc/other', image.digest)), `gc/other@${image.digest} is removed`).toBe(false);
      expect(after.has(blobFile(image.config))).toBe(false);
    }
    expect(after.has(blobFile(scenario.sharedLayer)), 'the layer gc/app:v1 shares stays').toBe(true);
  });

  it('--dry-run lists exactly what the real run removes, and removes nothing', async () => {
    const dry = await copyOfStore('stowage-dry');
    const real = await copyOfStore('stowage-real');
    const listed = await stowageGc(dry, ['--dry-run', '--delete-untagged']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(await storedFiles(dry)).toEqual(before);
    const removed = await stowageGc(real, ['--delete-untagged']);
    expect(removed.code, removed.stderr).toBe(0);

    const eligible = new Set([...listed.stdout.matchAll(/^blob eligible for deletion: (sha256:[0-9a-f]{64})/gm)].map((m) => blobFile(m[1]!)));
    const removedBlobs = new Set([...(await removedBy(real))].filter((file) => file.endsWith('/data')));
    expect(eligible.size).toBeGreaterThan(0);
    expect(eligible).toEqual(removedBlobs);
    expect(listed.stdout).toMatch(/^dry run: nothing was removed; /m);
    const manifests = [...listed.stdout.matchAll(/^manifest eligible for deletion: (\S+)@(sha256:[0-9a-f]{64})$/gm)].map((m) => revisionFile(m[1]!, m[2]!));
    expect(new Set(manifests)).toEqual(new Set([...(await removedBy(real))].filter((file) => file.includes('/_manifests/revisions/'))));
  });
});
