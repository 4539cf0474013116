/** How big the kit's data sets are; every field can be overridden one by one. */
export interface ConformanceSizes {
  /** bytes of the large streamed write/read (distribution: 5 GiB) */
  readonly largeStreamBytes: number;
  /** bytes of each of the three chunks of the resumable-append test (distribution: 10 MiB) */
  readonly appendChunkBytes: number;
  /** bytes of the file read by the concurrent readers (distribution: 128 MiB) */
  readonly concurrentReadBytes: number;
  /** how many readers read the same file at once */
  readonly concurrentReaders: number;
  /** how many writer streams run at once (distribution: 32, 8 in -short) */
  readonly concurrentStreams: number;
  /** bytes written by each concurrent writer stream (distribution: streams x 1 MiB) */
  readonly concurrentStreamBytes: number;
  /** pause before rewriting a file whose modTime must then advance (distribution: 10 s) */
  readonly statSleepMs: number;
  /** pause after the rewrite, for eventually consistent stores (distribution: 5 s) */
  readonly statSettleMs: number;
}

export type ConformanceProfile = 'quick' | 'full';

const MiB = 1024 * 1024;

export const profiles: Readonly<Record<ConformanceProfile, ConformanceSizes>> = {
  // Fast enough for every CI run, against emulators and real clouds alike.
  quick: {
    largeStreamBytes: 5 * MiB,
    appendChunkBytes: 1 * MiB,
    concurrentReadBytes: 2 * MiB,
    concurrentReaders: 10,
    concurrentStreams: 8,
    concurrentStreamBytes: 1 * MiB,
    // Just over a second: HTTP dates (Last-Modified) have one-second resolution.
    statSleepMs: 1100,
    statSettleMs: 0,
  },
  // distribution's own sizes and pauses.
  full: {
    largeStreamBytes: 5 * 1024 * MiB,
    appendChunkBytes: 10 * MiB,
    concurrentReadBytes: 128 * MiB,
    concurrentReaders: 10,
    concurrentStreams: 32,
    concurrentStreamBytes: 32 * MiB,
    statSleepMs: 10_000,
    statSettleMs: 5_000,
  },
};

/**
 * STOWAGE_KIT_PROFILE when set (so a full run can be asked for without editing test files), else the
 * option, else quick. `ci` is accepted for quick.
 */
export function resolveProfile(requested: ConformanceProfile | 'ci' | undefined): ConformanceProfile {
  const wanted = process.env.STOWAGE_KIT_PROFILE || requested || 'quick';
  if (wanted === 'full') return 'full';
  if (wanted === 'quick' || wanted === 'ci') return 'quick';
  throw new Error(`stowage/testing: unknown profile ${JSON.stringify(wanted)} (expected "quick" or "full")`);
}
