/**
 * The collector's lease under a race: collectors on one storage (on the filesystem each with a driver of its
 * own, as separate processes have) try to take it at the same moment, again and again, from a free lease,
 * a released one and an expired one. Exactly one of them wins each time, and the record names the winner.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GcLease, type GcClock } from '../../src/registry/gc/index.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createFilesystemDriver, createInMemoryDriver } from '../support/index.js';

/** Virtual time shared by the collectors, so that expiry is reached without waiting. */
class VirtualClock implements GcClock {
  time = Date.parse('2026-01-01T00:00:00Z');
  now(): Date {
    return new Date(this.time);
  }
  async sleep(ms: number): Promise<void> {
    this.time += ms;
  }
}

const COLLECTORS = 4;
const ROUNDS = 40;
const TTL_MS = 60_000;

async function race(drivers: readonly StorageDriver[]): Promise<void> {
  const layout = new StorageLayout('/');
  const clock = new VirtualClock();
  for (let round = 0; round < ROUNDS; round++) {
    const leases = drivers.map((driver, i) => new GcLease(new RegistryStorage(driver), layout, clock, TTL_MS, `r${round}-c${i}`));
    const won = await Promise.all(leases.map((lease) => lease.acquire()));
    const winners = leases.filter((_, i) => won[i]);
    expect(winners.map((lease) => lease.holder), `round ${round}: exactly one collector takes the lease`).toHaveLength(1);
    expect((await leases[0]!.read())?.holder, `round ${round}: the record names the winner`).toBe(winners[0]!.holder);
    // the next round races for a released lease, or for one whose holder died and let it expire
    if (round % 2 === 0) await winners[0]!.release();
    else clock.time += TTL_MS + 1;
  }
}

describe('the garbage collector lease, taken by collectors racing for it', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('goes to exactly one of them each time (filesystem, a driver per collector)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-lease-race-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const drivers = await Promise.all(Array.from({ length: COLLECTORS }, async () => wrapDriver(await createFilesystemDriver(root))));
    await race(drivers);
  });

  it('goes to exactly one of them each time (inmemory, one driver)', async () => {
    const driver = wrapDriver(await createInMemoryDriver());
    await race(Array.from({ length: COLLECTORS }, () => driver));
  });
});
