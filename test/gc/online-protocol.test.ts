/**
 * The online collector's protocol, step by step: a link written by a request in flight during the settle
 * wait rescues its blob; a run whose process dies is finished by the next holder of the lease; the lease
 * passes to another process only once it has expired.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectOnline, GcLease, LeaseLostError, type GcClock } from '../../src/registry/gc/index.js';
import { Registry } from '../../src/registry/index.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { tryParseDigest } from '../../src/registry/digest.js';
import { silentLogger } from '../../src/registry/logger.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createFilesystemDriver, startStowageWithDriver, type RunningRegistry } from '../support/index.js';
import { allBlobsOf, blobFile, layerLinkFile, storedFiles, StoreClient, type PushedImage } from './store.js';

/** Real time plus an offset; waits take no time, and `duringSleep` runs inside the collector's settle wait, as a request in flight would. */
class HookedClock implements GcClock {
  offsetMs = 0;
  duringSleep: (() => Promise<void>) | undefined;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  async sleep(ms: number): Promise<void> {
    // the lease's confirmation wait is not the settle wait
    if (ms !== settings.settleMs) return;
    const hook = this.duringSleep;
    this.duringSleep = undefined;
    await hook?.();
  }
}

/** Virtual time: sleeping moves it forward at once. */
class VirtualClock implements GcClock {
  time = Date.parse('2026-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.time);
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

const settings = { deleteUntagged: false, dryRun: false, graceMs: 0, settleMs: 1 };

describe('online garbage collection protocol (filesystem)', () => {
  let root: string;
  let driver: StorageDriver;
  let server: RunningRegistry;
  let client: StoreClient;
  let live: PushedImage;
  let garbage: PushedImage;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-protocol-'));
    driver = wrapDriver(await createFilesystemDriver(root));
    server = await startStowageWithDriver(driver);
    client = new StoreClient(server.url);
    live = await client.image('gc/live', 'v1', 'live config', ['live layer']);
    garbage = await client.image('gc/gone', 'v1', 'garbage config', ['garbage layer']);
    expect(await client.deleteManifest('gc/gone', garbage.digest)).toBe(202);
  });
  afterEach(async () => {
    await server?.close();
    await driver?.close?.();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('a layer link written while the collector settles brings its blob back from the trash', async () => {
    const clock = new HookedClock();
    const layer = tryParseDigest(garbage.layers[0]!)!;
    const layout = new StorageLayout('/');
    clock.duringSleep = async () => {
      // hidden now: a pull or a mount no longer finds it
      expect((await storedFiles(root)).has(blobFile(layer.value))).toBe(false);
      // a mount into gc/other that found the blob before it was hidden writes its link now
      await new RegistryStorage(driver).writeLink(layout.layerLink('gc/other', layer), layer);
    };
    const registry = new Registry({ driver, deleteEnabled: true });
    const report = await registry.collectGarbageOnline(settings, clock, 'collector');
    expect(report).toBeDefined();
    expect(new Set(report!.blobsRemoved.map((blob) => blob.digest))).toEqual(new Set([garbage.digest, garbage.config]));
    const files = await storedFiles(root);
    expect(files.has(blobFile(layer.value)), 'the rescued layer is back').toBe(true);
    expect(files.has(layerLinkFile('gc/other', layer.value))).toBe(true);
    expect(await client.blobIntact('gc/other', layer.value)).toBe(true);
    for (const digest of [garbage.digest, garbage.config]) expect(files.has(blobFile(digest)), digest).toBe(false);
    for (const digest of allBlobsOf(live)) expect(await client.blobIntact('gc/live', digest)).toBe(true);
  });

  /** An online run whose process dies in the settle wait, its blobs hidden and its lease left to expire. */
  const crashDuringSettle = async (): Promise<void> => {
    const storage = new RegistryStorage(driver);
    const layout = new StorageLayout('/');
    const crashing: GcClock = {
      now: () => new Date(),
      sleep: async (ms) => {
        // the first sleep confirms the lease; the process dies in the second, the settle wait after hiding
        if (ms === settings.settleMs) throw new Error('the process died');
      },
    };
    const lease = new GcLease(storage, layout, crashing, 10 * 60_000, 'dies');
    expect(await lease.acquire()).toBe(true);
    await expect(collectOnline(storage, layout, silentLogger, settings, crashing, lease)).rejects.toThrow('the process died');
  };

  it('stowage garbage-collect (offline) refuses while the lease is held, then finishes the dead run first', async () => {
    await crashDuringSettle();
    const registry = new Registry({ driver, deleteEnabled: true });
    const clock = new HookedClock();
    await expect(registry.collectGarbage({ dryRun: false, deleteUntagged: false }, clock)).rejects.toThrow(/another garbage collection \(dies\) holds the lease/);
    clock.offsetMs = 11 * 60_000;
    await registry.collectGarbage({ dryRun: false, deleteUntagged: false }, clock);
    const after = await storedFiles(root);
    expect([...after].filter((file) => file.startsWith('_stowage/gc/'))).toEqual([]);
    for (const digest of allBlobsOf(garbage)) expect(after.has(blobFile(digest))).toBe(false);
    for (const digest of allBlobsOf(live)) expect(await client.blobIntact('gc/live', digest), digest).toBe(true);
  });

  it('a run whose process died is finished by the next process once the lease expires', async () => {
    await crashDuringSettle();

    const files = await storedFiles(root);
    for (const digest of allBlobsOf(garbage)) expect(files.has(blobFile(digest)), `${digest} is hidden`).toBe(false);
    expect([...files].filter((file) => file.startsWith('_stowage/gc/trash/')).length).toBe(3);
    expect(files.has('_stowage/gc/run.json')).toBe(true);

    // meanwhile a client pushes the garbage layer's bytes again in a new image: it must survive the resumed run
    const reused = await client.image('gc/again', 'v1', 'a new config', ['garbage layer']);

    const clock = new HookedClock();
    const other = new Registry({ driver, deleteEnabled: true });
    expect(await other.collectGarbageOnline(settings, clock, 'takes-over'), 'the dead holder\'s lease has not expired').toBeUndefined();
    clock.offsetMs = 11 * 60_000;
    const report = await other.collectGarbageOnline(settings, clock, 'takes-over');
    expect(report).toBeDefined();
    expect(new Set(report!.blobsRemoved.map((blob) => blob.digest))).toEqual(new Set([garbage.digest, garbage.config]));

    const after = await storedFiles(root);
    expect([...after].filter((file) => file.startsWith('_stowage/gc/')), 'trash, run state and lease are gone').toEqual([]);
    for (const digest of [garbage.digest, garbage.config]) expect(after.has(blobFile(digest))).toBe(false);
    for (const digest of allBlobsOf(reused)) expect(await client.blobIntact('gc/again', digest), digest).toBe(true);
    for (const digest of allBlobsOf(live)) expect(await client.blobIntact('gc/live', digest), digest).toBe(true);
  });

  it('the lease goes to another process only after it expires, and the first holder then knows it lost it', async () => {
    const storage = new RegistryStorage(driver);
    const layout = new StorageLayout('/');
    const clock = new VirtualClock();
    const first = new GcLease(storage, layout, clock, 60_000, 'first');
    const second = new GcLease(storage, layout, clock, 60_000, 'second');
    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    clock.time += 30_000;
    await first.keep();
    clock.time += 45_000;
    expect(await second.acquire(), 'renewed 45 s ago, the lease still holds').toBe(false);
    clock.time += 20_000;
    expect(await second.acquire()).toBe(true);
    await expect(first.renew()).rejects.toBeInstanceOf(LeaseLostError);
    await first.release();
    expect((await second.read())?.holder, 'a lost holder releases nothing').toBe('second');
  });
});
