/**
 * Online garbage collection while the registry serves: several clients push, mount, tag and delete through
 * two stowage servers sharing one storage folder while two collectors (two "processes", one lease) run over
 * and over. Afterwards every manifest a client was told is stored resolves with every blob intact; and once
 * the grace period has passed (the collectors' clock is driven forward, nothing sleeps it out), everything
 * unreferenced is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, type GcClock, type GcReport, type OnlineGcSettings } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createFilesystemDriver, startStowageWithDriver, type RunningRegistry } from '../support/index.js';
import { blobFile, sha256, storedFiles, StoreClient, type Pushed } from './store.js';

/** Real time, plus an offset the test moves forward to make the grace period pass. */
class DrivenClock implements GcClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

interface LiveManifest {
  readonly repository: string;
  readonly digest: string;
  readonly blobs: readonly string[];
}

const GRACE_MS = 400;
const SETTLE_MS = 300;
const settings: OnlineGcSettings = { deleteUntagged: false, dryRun: false, graceMs: GRACE_MS, settleMs: SETTLE_MS };

/** One client's work: images pushed by tag (tags move), layers mounted from earlier images (some deleted), deletes. */
async function clientWork(client: StoreClient, id: number, rounds: number, live: Map<string, LiveManifest>, stats: { retries: number }): Promise<void> {
  const repository = `stress/c${id}`;
  const mirror = `stress/c${id}-mirror`;
  const pushedHere: LiveManifest[] = [];

  const pushImage = async (repo: string, tag: string, config: string, layers: { content: string; mountFrom?: string }[]): Promise<LiveManifest> => {
    for (let attempt = 0; ; attempt += 1) {
      const descriptors: Pushed[] = [await client.blob(repo, config)];
      for (const layer of layers) {
        const bytes = Buffer.from(layer.content);
        const digest = sha256(bytes);
        const mounted = layer.mountFrom ? (await client.mount(repo, digest, layer.mountFrom)) === 201 : false;
        descriptors.push(mounted ? { digest, size: bytes.length } : await client.blob(repo, bytes));
      }
      const [configBlob, ...layerBlobs] = descriptors;
      try {
        const pushed = await client.manifest(repo, tag, {
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
          layers: layerBlobs.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer })),
        });
        const manifest = { repository: repo, digest: pushed.digest, blobs: descriptors.map((d) => d.digest) };
        live.set(`${repo}@${pushed.digest}`, manifest);
        return manifest;
      } catch (err) {
        // a blob uploaded longer than the grace period ago may be collected before its manifest comes:
        // the push fails cleanly (nothing was acknowledged) and the client uploads again, as a client must
        if (!/MANIFEST_BLOB_UNKNOWN/.test(String(err)) || attempt >= 5) throw err;
        stats.retries += 1;
      }
    }
  };

  for (let round = 0; round < rounds; round += 1) {
    const layers: { content: string; mountFrom?: string }[] = [{ content: `layer ${id}/${round}` }];
    const earlier = pushedHere.at(-2);
    if (earlier) layers.push({ content: `layer ${id}/${pushedHere.length - 2}`, mountFrom: earlier.repository });
    pushedHere.push(await pushImage(repository, `t${round % 3}`, `config ${id}/${round}`, layers));

    if (round % 2 === 1) {
      // the mirror reuses a layer of an image that may be deleted meanwhile: mount it, else upload it
      const source = pushedHere[Math.floor(round / 2)]!;
      await pushImage(mirror, `m${round % 2}`, `mirror config ${id}/${round}`, [{ content: `layer ${id}/${Math.floor(round / 2)}`, mountFrom: source.repository }]);
    }
    if (round % 3 === 2) {
      const victim = pushedHere[round - 2]!;
      const status = await client.deleteManifest(victim.repository, victim.digest);
      if (status !== 202) throw new Error(`deleting ${victim.repository}@${victim.digest} answered ${status}`);
      live.delete(`${victim.repository}@${victim.digest}`);
    }
  }
}

describe('online garbage collection while clients push, mount, tag and delete (filesystem)', () => {
  let root: string;
  let driver: StorageDriver;
  let servers: RunningRegistry[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-online-'));
    driver = await createFilesystemDriver(root);
    servers = [await startStowageWithDriver(driver), await startStowageWithDriver(driver)];
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await driver?.close?.();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('keeps every acknowledged manifest and its blobs, runs one collector at a time, then removes all that is unreferenced', async () => {
    const clock = new DrivenClock();
    const collectors = ['collector-a', 'collector-b'].map((holder) => ({ holder, registry: new Registry({ driver: wrapDriver(driver), deleteEnabled: true }) }));
    const live = new Map<string, LiveManifest>();
    const stats = { retries: 0 };
    const runs: { holder: string; report: GcReport; endedAt: number }[] = [];
    let skipped = 0;
    let clientsDone = false;

    const collectorLoop = async ({ holder, registry }: (typeof collectors)[number]): Promise<void> => {
      while (!clientsDone) {
        const report = await registry.collectGarbageOnline(settings, clock, holder);
        if (report) runs.push({ holder, report, endedAt: clock.now().getTime() });
        else skipped += 1;
        // pacing, not synchronisation: a process that found the lease taken tries again a little later
        if (!report) await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };

    const clients = [0, 1, 2, 3].map((id) => clientWork(new StoreClient(servers[id % 2]!.url), id, 12, live, stats));
    const collecting = collectors.map(collectorLoop);
    await Promise.all(clients).finally(() => (clientsDone = true));
    await Promise.all(collecting);

    expect(runs.length, 'collections ran while clients worked').toBeGreaterThanOrEqual(2);
    // one collector at a time: no two runs overlap
    const spans = runs.map((run) => [run.report.startedAt.getTime(), run.endedAt] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i += 1) expect(spans[i]![0], 'a run starts after the previous one ended').toBeGreaterThanOrEqual(spans[i - 1]![1]);
    expect(skipped, 'the other collector found the lease taken').toBeGreaterThan(0);

    const client = new StoreClient(servers[0]!.url);
    const expectAllLive = async (): Promise<void> => {
      for (const manifest of live.values()) {
        expect(await client.manifestStatus(manifest.repository, manifest.digest), `${manifest.repository}@${manifest.digest}`).toBe(200);
        for (const blob of manifest.blobs) expect(await client.blobIntact(manifest.repository, blob), `${manifest.repository} ${blob}`).toBe(true);
      }
    };
    await expectAllLive();
    expect(live.size).toBeGreaterThan(20);

    // the grace period passes (the collectors' clock moves past it): what nothing references goes
    clock.offsetMs += GRACE_MS + 60_000;
    const final = await collectors[0]!.registry.collectGarbageOnline(settings, clock, 'collector-a');
    expect(final).toBeDefined();
    await expectAllLive();
    const files = await storedFiles(root);
    const blobData = new Set([...files].filter((file) => file.endsWith('/data') && file.includes('/blobs/')));
    const referenced = new Set([...live.values()].flatMap((manifest) => [manifest.digest, ...manifest.blobs]).map(blobFile));
    expect(blobData).toEqual(referenced);
    expect([...files].filter((file) => file.startsWith('_stowage/gc/')), 'no lease, run state or trash is left').toEqual([]);
    const removedInAll = runs.reduce((sum, run) => sum + run.report.blobsRemoved.length, 0) + final!.blobsRemoved.length;
    expect(removedInAll, 'deleted images were collected').toBeGreaterThan(0);
  }, 120_000);
});
