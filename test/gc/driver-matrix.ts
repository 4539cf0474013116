/**
 * The garbage collector on one storage driver, through the storage contract only: the offline run with
 * --delete-untagged removes exactly what the scenario makes garbage (the same set distribution-parity.test.ts
 * checks on the filesystem against distribution 2.8), everything kept still pulls, and an online run then
 * collects a deleted image and leaves no lease, run state or trash behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry, type GcClock } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { isPathNotFound } from '../../src/storage/errors.js';
import { startStowageWithDriver, type RunningRegistry } from '../support/index.js';
import { allBlobsOf, pushScenario, StoreClient, type Scenario } from './store.js';

/**
 * Real time moved 2 s ahead; waits take none (the online run has nothing in flight to wait for here). Object
 * stores stamp modification times in whole seconds and Swift's s3api rounds them up, so a blob written a moment
 * before the run can carry a time after the run's start and be kept as too new for a zero grace period.
 */
const instantClock: GcClock = { now: () => new Date(Date.now() + 2_000), sleep: async () => undefined };

export function describeGcOnDriver(name: string, createDriver: () => Promise<StorageDriver>): void {
  describe(`garbage collection on ${name}`, () => {
    let driver: StorageDriver;
    let server: RunningRegistry;
    let client: StoreClient;
    let scenario: Scenario;
    let registry: Registry;

    beforeAll(async () => {
      driver = wrapDriver(await createDriver());
      server = await startStowageWithDriver(driver);
      client = new StoreClient(server.url);
      scenario = await pushScenario(client);
      registry = new Registry({ driver, deleteEnabled: true });
    }, 120_000);
    afterAll(async () => {
      await server?.close();
      await driver?.close?.();
    });

    it('removes the untagged and deleted images and the orphan, keeps index children and referrers, and all that is kept pulls', async () => {
      const { formerlyTagged, untagged, deleted, orphan, otherUntagged } = scenario;
      const report = await registry.collectGarbage({ dryRun: false, deleteUntagged: true });
      const expectedBlobs = [orphan.digest, ...allBlobsOf(deleted), ...allBlobsOf(formerlyTagged), ...allBlobsOf(untagged), otherUntagged.digest, otherUntagged.config];
      expect(new Set(report.blobsRemoved.map((blob) => blob.digest))).toEqual(new Set(expectedBlobs));
      expect(new Set(report.manifestsRemoved.map((m) => `${m.repository}@${m.digest}`))).toEqual(
        new Set([`gc/app@${formerlyTagged.digest}`, `gc/app@${untagged.digest}`, `gc/other@${otherUntagged.digest}`]),
      );

      for (const [repository, tag] of [['gc/app', 'v1'], ['gc/app', 'v2'], ['gc/multi', 'latest'], ['gc/signed', 'v1'], ['gc/other', 'kept']] as const) {
        expect(await client.manifestStatus(repository, tag), `${repository}:${tag}`).toBe(200);
      }
      for (const image of [scenario.tagged, scenario.retagged]) for (const digest of allBlobsOf(image)) expect(await client.blobIntact('gc/app', digest)).toBe(true);
      for (const child of scenario.children) for (const digest of allBlobsOf(child)) expect(await client.blobIntact('gc/multi', digest)).toBe(true);
      expect(await client.referrers('gc/signed', scenario.signed.digest)).toEqual([scenario.signature.digest]);
      for (const image of [formerlyTagged, untagged]) expect(await client.manifestStatus('gc/app', image.digest)).toBe(404);
      for (const digest of [orphan.digest, ...allBlobsOf(deleted)]) expect(await client.blobIntact('gc/app', digest), digest).toBe(false);
    });

    it('an online run collects an image deleted since, and leaves nothing of its own behind', async () => {
      const gone = await client.image('gc/app', 'temporary', 'online config', ['online layer']);
      expect(await client.deleteManifest('gc/app', gone.digest)).toBe(202);
      const report = await registry.collectGarbageOnline({ deleteUntagged: false, dryRun: false, graceMs: 0, settleMs: 0 }, instantClock, 'matrix');
      expect(new Set(report?.blobsRemoved.map((blob) => blob.digest))).toEqual(new Set(allBlobsOf(gone)));
      for (const digest of allBlobsOf(gone)) expect(await client.blobIntact('gc/app', digest)).toBe(false);
      for (const digest of allBlobsOf(scenario.tagged)) expect(await client.blobIntact('gc/app', digest)).toBe(true);
      for (const path of ['/_stowage/gc/lease.json', '/_stowage/gc/run.json']) {
        await expect(driver.stat(path).then(() => 'present', (err: unknown) => (isPathNotFound(err) ? 'absent' : err)), path).resolves.toBe('absent');
      }
    });
  });
}
