/**
 * One collector at a time across every process that shares the storage: a lease object
 * (`_stowage/gc/lease.json`, beside distribution's tree) naming its holder and an expiry, renewed while the
 * collection runs. A holder that dies stops renewing; once the expiry passes, another process takes over
 * (and finishes the dead run from its recorded state, see online.ts).
 *
 * The storage contract has no compare-and-swap, so taking the lease is write-then-confirm: read (free or
 * expired?), write ours, wait `confirmMs`, read back. Two processes that both read it free within the same
 * instant can only both win if each writes and confirms before the other's write lands; waiting
 * `confirmMs` (longer than one write takes) makes that window small, and every destructive step re-checks
 * the lease first. Clocks of the processes are assumed roughly in step (NTP), as the expiry is compared
 * across them.
 */
import { randomUUID } from 'node:crypto';
import type { StorageLayout } from '../layout.js';
import type { RegistryStorage } from '../storage.js';
import type { GcClock } from './clock.js';

export interface LeaseRecord {
  readonly holder: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

export class LeaseLostError extends Error {
  readonly code = 'GC_LEASE_LOST';
  constructor(holder: string, other: string | undefined) {
    super(`the garbage collection lease of ${holder} was taken over by ${other ?? 'nobody (it was removed)'}; stopping`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class GcLease {
  private renewedAt = 0;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly clock: GcClock,
    readonly ttlMs: number,
    readonly holder: string = randomUUID(),
    private readonly confirmMs = 250,
  ) {}

  async read(): Promise<LeaseRecord | undefined> {
    const content = await this.storage.getOrUndefined(this.layout.gcLease());
    if (!content) return undefined;
    try {
      const record = JSON.parse(decoder.decode(content)) as Partial<LeaseRecord>;
      if (typeof record.holder === 'string' && typeof record.expiresAt === 'string' && typeof record.acquiredAt === 'string') return record as LeaseRecord;
    } catch {
      // an unreadable lease counts as free: nothing could renew it
    }
    return undefined;
  }

  private isLive(record: LeaseRecord | undefined): record is LeaseRecord {
    return record !== undefined && Date.parse(record.expiresAt) > this.clock.now().getTime();
  }

  /** Takes the lease; false when another live holder has it. */
  async acquire(): Promise<boolean> {
    const current = await this.read();
    if (this.isLive(current) && current.holder !== this.holder) return false;
    await this.write(this.clock.now());
    await this.clock.sleep(this.confirmMs);
    return (await this.read())?.holder === this.holder;
  }

  /** Extends the expiry when a third of the lease has gone by; throws LeaseLostError when someone else holds it. */
  async keep(): Promise<void> {
    if (this.clock.now().getTime() - this.renewedAt < this.ttlMs / 3) return;
    await this.renew();
  }

  async renew(): Promise<void> {
    const current = await this.read();
    if (current?.holder !== this.holder) throw new LeaseLostError(this.holder, current?.holder);
    await this.write(new Date(Date.parse(current.acquiredAt)));
  }

  async release(): Promise<void> {
    const current = await this.read();
    if (current?.holder === this.holder) await this.storage.deleteIfPresent(this.layout.gcLease());
  }

  private async write(acquiredAt: Date): Promise<void> {
    const now = this.clock.now();
    const record: LeaseRecord = { holder: this.holder, acquiredAt: acquiredAt.toISOString(), expiresAt: new Date(now.getTime() + this.ttlMs).toISOString() };
    await this.storage.driver.putContent(this.layout.gcLease(), encoder.encode(JSON.stringify(record)));
    this.renewedAt = now.getTime();
  }
}
