/**
 * One collector at a time across every process that shares the storage: a lease object
 * (`_stowage/gc/lease.json`, beside distribution's tree) naming its holder and an expiry, renewed while the
 * collection runs. A holder that dies stops renewing; once the expiry passes, another process takes over
 * (and finishes the dead run from its recorded state, see online.ts).
 *
 * Who takes the lease is decided by the storage contract's one conditional write: of two writers that
 * append to an upload at the same size, only the first to write goes on (contract v2's upload claims; the
 * other is refused with INVALID_OFFSET). `_stowage/gc/lease.claims` is such an upload, never committed:
 * every acquisition appends one entry to it, and the lease record names the log's size after its holder's
 * entry (`claimEnd`). A collector opens the log (its size), reads the lease, and goes on only when the
 * lease is free, expired or its own *and* the record's `claimEnd` is the log's size (nobody appended since
 * the record was written; no record goes with an empty log); then it appends its entry and writes its
 * record. Collectors racing from one
 * state append at one size, so exactly one of them wins; one that opened the log after the winner's
 * append sees a record that does not match the log until the winner's record is there, and stops.
 *
 * A collector that dies between its append and its record leaves the log one entry ahead of the record;
 * a process that sees the same mismatch for a whole lease period takes it for dead and appends after it.
 * Clocks of the processes are assumed roughly in step (NTP), as the expiry is compared across them; a
 * holder must not stall longer than the lease without renewing it: every destructive step checks first.
 */
import { randomUUID } from 'node:crypto';
import { storageErrorCode } from '../../storage/errors.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryStorage } from '../storage.js';
import type { GcClock } from './clock.js';

export interface LeaseRecord {
  readonly holder: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
  /** the size of the claim log after the holder's entry (absent in records of older versions) */
  readonly claimEnd?: number;
}

export class LeaseLostError extends Error {
  readonly code = 'GC_LEASE_LOST';
  constructor(holder: string, other: string | undefined) {
    super(`the garbage collection lease of ${holder} was taken over by ${other ?? 'nobody (it was removed)'}; stopping`);
  }
}

const encoder = new TextEncoder();
/** bytes of one entry in the claim log (the holder, JSON-quoted, padded): the log grows by this much per acquisition */
const CLAIM_ENTRY_BYTES = 128;
const decoder = new TextDecoder();

/** per storage: the log size and lease record last seen not to match, and since when (see appenderGone) */
const mismatchesSeen = new WeakMap<object, { state: string; since: number }>();

export class GcLease {
  private renewedAt = 0;
  /** the claim log's size after this holder's entry */
  private claimEnd: number | undefined;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly clock: GcClock,
    readonly ttlMs: number,
    readonly holder: string = randomUUID(),
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

  /** Takes the lease; false when another live holder has it, or another collector is taking it now. */
  async acquire(): Promise<boolean> {
    // appending, also to a log that does not exist yet: a fresh writer would discard the other collectors' entries
    const log = await this.storage.driver.writer(this.layout.gcLeaseClaims(), true);
    try {
      const size = log.size;
      const current = await this.read();
      if (this.isLive(current) && current.holder !== this.holder) return false;
      if ((current?.claimEnd ?? 0) !== size && !this.appenderGone(size, current)) return false;
      try {
        await log.write(encoder.encode(`${JSON.stringify(this.holder).slice(0, CLAIM_ENTRY_BYTES - 1).padEnd(CLAIM_ENTRY_BYTES - 1)}\n`));
      } catch (err) {
        // another collector appended at this size first: it takes the lease
        if (storageErrorCode(err) === 'INVALID_OFFSET') return false;
        throw err;
      }
      this.claimEnd = log.size;
      await this.write(this.clock.now());
      return true;
    } finally {
      await log.close().catch(() => undefined);
    }
  }

  /**
   * Whether the collector that appended to the log after the lease record was written died before writing
   * its own: the same mismatch has been seen by this process for at least one lease period.
   */
  private appenderGone(size: number, current: LeaseRecord | undefined): boolean {
    const state = `${size} ${JSON.stringify(current ?? null)}`;
    const now = this.clock.now().getTime();
    const seen = mismatchesSeen.get(this.storage.driver);
    if (seen?.state === state) return now - seen.since >= this.ttlMs;
    mismatchesSeen.set(this.storage.driver, { state, since: now });
    return false;
  }

  /** Extends the expiry when a third of the lease has gone by; throws LeaseLostError when someone else holds it. */
  async keep(): Promise<void> {
    if (this.clock.now().getTime() - this.renewedAt < this.ttlMs / 3) return;
    await this.renew();
  }

  async renew(): Promise<void> {
    const current = await this.read();
    if (current?.holder !== this.holder) throw new LeaseLostError(this.holder, current?.holder);
    this.claimEnd = current.claimEnd;
    await this.write(new Date(Date.parse(current.acquiredAt)));
  }

  /**
   * Ends the lease: the claim log goes first, then the record. A collector that opened the log before it went
   * finds no record and a log not empty, and stops; the next ones start a new log from size 0, racing as ever.
   */
  async release(): Promise<void> {
    const current = await this.read();
    if (current?.holder !== this.holder) return;
    await this.storage.deleteIfPresent(this.layout.gcLeaseClaims());
    await this.storage.deleteIfPresent(this.layout.gcLease());
  }

  private async write(acquiredAt: Date): Promise<void> {
    const now = this.clock.now();
    const record: LeaseRecord = {
      holder: this.holder,
      acquiredAt: acquiredAt.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
      ...(this.claimEnd !== undefined ? { claimEnd: this.claimEnd } : {}),
    };
    await this.storage.driver.putContent(this.layout.gcLease(), encoder.encode(JSON.stringify(record)));
    this.renewedAt = now.getTime();
  }
}
