/**
 * Whether a file's or folder's times can tell a later change apart. A filesystem stamps times from a coarse
 * clock: two changes within one tick can leave the same times, so something read right after the first
 * would look current after the second. Times already older than any later change can be stamped are
 * settled: a Linux filesystem with fine times (ext4, xfs, btrfs, tmpfs) stamps from a clock at most one tick
 * (4-10 ms) behind, so 100 ms is ample; times in whole seconds (ext3, FAT and some network filesystems) get 2 s.
 * This assumes the filesystem's clock does not lag this host's by more than that (a network filesystem's
 * server), and that the clock is not stepped back by more.
 */
import type { BigIntStats } from 'node:fs';

/** how old times must be to be settled, for fine and for whole-second times */
export const SETTLED_MS = 100;
export const SETTLED_WHOLE_SECONDS_MS = 2_000;

/** `statedAt`: Date.now() taken before the stat that gave `info` */
export function timesSettled(info: BigIntStats, statedAt: number): boolean {
  const wholeSeconds = info.mtimeNs % 1_000_000_000n === 0n && info.ctimeNs % 1_000_000_000n === 0n;
  const settledBefore = BigInt(statedAt - (wholeSeconds ? SETTLED_WHOLE_SECONDS_MS : SETTLED_MS)) * 1_000_000n;
  return info.mtimeNs < settledBefore && info.ctimeNs < settledBefore;
}
