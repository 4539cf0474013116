/**
 * Whether a file's or folder's times, as one stat saw them, tell apart any change made after that stat: the
 * rule under which a kept listing (sorted-listings.ts) or a kept link (the driver's content stamps) stays in
 * use only while the times are the same.
 *
 * A filesystem stamps a change from a clock; two changes close together can leave the same times, so
 * something read right after the first would look current after the second. Say a stat, begun at wall time
 * S, saw times T, and what is kept was read after the stat. A change made before the stat shows in T or in
 * what was read after it. A change made after S is stamped from the clock at that moment:
 * - on a filesystem with multigrain times (stamp-probe.ts) it leaves times later than the T the stat saw,
 *   whenever it comes: T is settled at once (unless T lies after S: the clock was stepped back);
 * - on one stamped from the coarse clock, which lags the wall clock by less than one tick, it is stamped
 *   later than S - tick, so T tells it apart when T is older than S - tick. A margin covers a tick measured
 *   a little short and the stat's start read in whole ms: T must be older than 2 ticks + 1 ms;
 * - times in whole seconds (ext3, FAT, some network filesystems) get 2 s.
 * What was read while T was not settled cannot be kept provisionally and confirmed by a later stat showing T
 * again: a change made after the read began, within the same tick, leaves T as it was, so no later stat can
 * tell it apart; only a read begun after T settled (a stat taken later) can be kept.
 * When the filesystem's stamping is unknown (the probe could not run) T must be 100 ms old, more than any
 * tick. This assumes the filesystem stamps from this host's clock (network filesystems are not trusted at
 * all: local-filesystem.ts) and that the clock is not stepped back by more than the margin.
 */
import type { BigIntStats } from 'node:fs';
import type { Stamping } from './stamp-probe.js';

/** how old fine times must be where the filesystem's stamping is unknown, and whole-second times always */
export const SETTLED_UNKNOWN_MS = 100;
export const SETTLED_WHOLE_SECONDS_MS = 2_000;

export class SettledTimes {
  /**
   * `olderThanMs`: how much older than the stat's start times must be to be settled; a negative value
   * allows times up to that much after it (the start is read in whole ms, the times are in ns).
   */
  private constructor(readonly olderThanMs: number) {}

  static for(stamping: Stamping | undefined): SettledTimes {
    if (stamping === undefined) return new SettledTimes(SETTLED_UNKNOWN_MS);
    // Date.now() truncates: the stat began less than 1 ms after `statedAt`
    if (stamping.kind === 'later after a stat') return new SettledTimes(-1);
    return new SettledTimes(Math.ceil(2 * stamping.tickMs + 1));
  }

  /** `statedAt`: Date.now() taken before the stat that gave `info` */
  settled(info: Pick<BigIntStats, 'mtimeNs' | 'ctimeNs'>, statedAt: number): boolean {
    const wholeSeconds = info.mtimeNs % 1_000_000_000n === 0n && info.ctimeNs % 1_000_000_000n === 0n;
    const settledBefore = BigInt(statedAt - (wholeSeconds ? SETTLED_WHOLE_SECONDS_MS : this.olderThanMs)) * 1_000_000n;
    return info.mtimeNs < settledBefore && info.ctimeNs < settledBefore;
  }
}
