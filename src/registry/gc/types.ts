/** What a garbage collection is asked to do, what it reports while it runs, and what it found. */

export interface GcOptions {
  /** report what would be removed, remove nothing */
  readonly dryRun: boolean;
  /** also remove manifests no tag names (distribution's --delete-untagged), with stowage's safety rules */
  readonly deleteUntagged: boolean;
  /**
   * Online collection: anything written (blob data, layer link, revision link) at or after this instant, in
   * the storage's own clock, is kept whatever the marks say; its manifest may still be on its way.
   * Offline (the registry stopped), nothing is recent: leave it undefined.
   */
  readonly keepWrittenAfter?: Date;
  readonly onProgress?: (progress: GcProgress) => void;
  /** called between steps: renews the collector's lease (throws when it was lost) */
  readonly keepAlive?: () => Promise<void>;
}

export type GcPhase = 'mark' | 'scan' | 'sweep';

export interface GcProgress {
  readonly phase: GcPhase;
  readonly done: number;
  readonly total: number;
}

export interface RemovedManifest {
  readonly repository: string;
  readonly digest: string;
}

export interface RemovedBlob {
  readonly digest: string;
  readonly size: number;
}

export interface GcReport {
  readonly dryRun: boolean;
  readonly deleteUntagged: boolean;
  readonly repositories: number;
  /** manifests removed from their repository (or that would be, on a dry run) */
  readonly manifestsRemoved: readonly RemovedManifest[];
  /** blobs removed from blobs/ (or that would be) */
  readonly blobsRemoved: readonly RemovedBlob[];
  readonly bytesRemoved: number;
  readonly blobsKept: number;
  readonly bytesKept: number;
  /** unreferenced blobs kept because they were written after `keepWrittenAfter` (online runs) */
  readonly blobsKeptAsRecent: number;
  readonly startedAt: Date;
  readonly durationMs: number;
}
