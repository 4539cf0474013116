/**
 * The filesystem writer. Uncommitted bytes live in `<path>~partial`, next to where the object will be:
 * an appending writer opened later (even by another process after a restart) finds them there, and
 * commit is an fdatasync, a rename and a sync of the folder, so readers see the old object or the new one, never
 * half of one, and a committed object survives a crash.
 * `~` is outside the storage path grammar, so a partial file can never be mistaken for an object.
 *
 * Two writers opened at the same size (two processes on one folder) would both append, and the second
 * one's bytes would land after the first one's while its caller believes them at the old end. So before
 * its first byte, a writer claims the size it starts from by creating `<path>~claim.<size>` exclusively
 * (O_EXCL): the writer that finds the claim taken is refused with `refuse(size)` (INVALID_OFFSET, 416
 * at the API) and writes nothing. Claims go with the upload on commit, cancel and delete. A claim whose
 * holder is gone (a process killed mid-append) is taken over by one writer, so the client can resume
 * (claims.ts).
 *
 * Opening a writer touches nothing: folders, the partial file and the claim are made by the first write
 * (or a commit), so a writer closed without being written to leaves the tree exactly as it found it.
 *
 * Closing a writer that was written to makes what it appended durable (fdatasync, and the folder when the
 * partial file is new): the registry answers 202 to a chunk once its writer is closed, and an acknowledged
 * chunk must survive a crash like a committed blob.
 */
import { closeSync, openSync, readdirSync, renameSync, statSync, write as writeToFile } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileWriter } from 'stowage';
import { type HeldClaim, keepClaim, releaseClaim, removeClaimFile, takeClaim } from './claims.js';
import { syncDescriptor } from './descriptor-sync.js';
import { makeParentDirectories, syncDirectory, syncFileData } from './fsync.js';
import type { KeptPages } from './page-cache.js';

/**
 * Bytes written at least between two early syncs (see startEarlySync). Small, so that what a close or a
 * commit still has to sync is at most a few MiB: a chunk's 202 waits for that tail, 32 times in a push of
 * 256 MB in 8 MB chunks. A sync only starts when none runs, so a slow disk batches more per sync.
 */
const EARLY_SYNC_BYTES = 2 * 1024 * 1024;

/**
 * How far before the size a caller expects (expectSize) the writer starts its ending sync (see startEndingSync):
 * one upload batch (upload-body.ts), so the sync runs while the last MiB arrives.
 */
const ENDING_STRETCH_BYTES = 1024 * 1024;

/**
 * Bytes not yet under a sync at least for the ending sync to start: below it, the close's own fdatasync costs
 * about what a second one would (a sync's fixed cost, the disk's cache flush, is about 0.45 ms here).
 */
const ENDING_SYNC_BYTES = 512 * 1024;

export const partialPathOf = (file: string): string => `${file}~partial`;

/**
 * The partial file, open, by its descriptor: opening and closing it are synchronous (neither waits for the
 * disk, see fsync.ts), so a chunk's 202 does not wait for a thread-pool round trip to close the file after
 * its sync, nor its first write for one to open it; writes and syncs go to the thread pool.
 */
class PartialFile {
  private constructor(private readonly fd: number) {}

  static open(path: string, flags: 'a' | 'w'): PartialFile {
    return new PartialFile(openSync(path, flags));
  }

  write(chunk: Uint8Array, offset: number, length: number): Promise<number> {
    return new Promise((resolve, reject) => writeToFile(this.fd, chunk, offset, length, null, (err, written) => (err ? reject(err) : resolve(written))));
  }

  datasync(): Promise<void> {
    return syncDescriptor(this.fd, true);
  }

  /** Only once no write or sync on the descriptor is pending. */
  close(): void {
    closeSync(this.fd);
  }
}
const claimPrefixOf = (file: string): string => `${basename(file)}~claim.`;

/**
 * Removes the claims of the upload at `file` (a new upload starts, or it is committed, cancelled or deleted).
 * Synchronous (see fsync.ts): an upload's folder holds the upload and its claims, a handful of names.
 */
export async function removeClaims(file: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return;
  }
  const prefix = claimPrefixOf(file);
  for (const name of names) if (name.startsWith(prefix)) removeClaimFile(join(dirname(file), name));
}

/** The error for a writer whose starting size another writer has already continued from. */
export type Refusal = (size: number) => Error;

/** The file a storage path names (the driver's mapping, for `commitTo`). */
export type Placement = (path: string) => string;

/** `keptPages`: the driver's page-cache budget for synced upload bytes, undefined when the kernel alone decides */
export async function openWriter(file: string, append: boolean, refuse: Refusal, place: Placement, keptPages: KeptPages | undefined): Promise<FileWriter> {
  const partial = partialPathOf(file);
  const open = (size: number, firstUse: FirstUse): FileWriter => new FilesystemWriter(file, partial, size, firstUse, refuse, place, keptPages);
  // A new upload replaces an older one at the same path, but only once it is written to (see openHandle).
  if (!append) return open(0, 'replace');
  const partialSize = await sizeOf(partial);
  if (partialSize !== undefined) return open(partialSize, 'continue');
  const committedSize = await sizeOf(file);
  return open(committedSize ?? 0, committedSize === undefined ? 'create' : 'copyCommitted');
}

/**
 * What the first write (or commit) does before appending: `replace` drops an older upload's claims and
 * truncates its partial file, `copyCommitted` starts the partial file from the committed object,
 * `create` starts a partial file where there was none, `continue` appends to the partial file that was there.
 */
type FirstUse = 'replace' | 'copyCommitted' | 'create' | 'continue';

/** The bytes an appending writer at `file` would start from; undefined when there is neither a partial nor an object. */
export async function uploadSizeOf(file: string): Promise<number | undefined> {
  return (await sizeOf(partialPathOf(file))) ?? (await sizeOf(file));
}

class FilesystemWriter implements FileWriter {
  private handle: PartialFile | undefined;
  private closed = false;
  private written: number;
  private finished: 'committed' | 'cancelled' | 'refused' | undefined;
  private readonly startedAt: number;
  private claimed: Promise<void> | undefined;
  private held: HeldClaim | undefined;
  /** the background fdatasync started by startEarlySync, if one runs */
  private earlySync: Promise<void> | undefined;
  /** the size the caller expects to reach (expectSize) */
  private expectedSize: number | undefined;
  /** the background fdatasync started by startEndingSync, once it started (it never rejects) */
  private endingSync: Promise<void> | undefined;
  /** `written` when the last background sync started */
  private syncedUpTo: number;
  /** bytes known to be on stable storage: what the writer started from, then what a finished sync covered */
  private durableUpTo: number;
  /**
   * An early sync's failure, kept for close and commit: Linux reports a writeback error to one fsync of an
   * open file only, so the later fdatasync on the same handle would succeed over the lost pages.
   */
  private syncFailure: unknown;

  constructor(
    private readonly file: string,
    private readonly partial: string,
    size: number,
    private readonly firstUse: FirstUse,
    private readonly refuse: Refusal,
    private readonly place: Placement,
    private readonly keptPages: KeptPages | undefined,
  ) {
    this.written = size;
    this.startedAt = size;
    this.syncedUpTo = size;
    this.durableUpTo = size;
  }

  /** Claims the size this writer starts from, once; refuses the writer when another writer holds the claim. */
  private claim(): Promise<void> {
    this.claimed ??= takeClaim(this.file, this.startedAt).then((held) => {
      if (!held) this.refused();
      this.held = held;
    });
    return this.claimed;
  }

  private refused(): never {
    this.finished = 'refused';
    throw this.refuse(this.startedAt);
  }

  /** A writer whose claim was taken over (it stalled past the lease) writes nothing more. */
  private async keepClaim(): Promise<void> {
    if (this.held && !(await keepClaim(this.file, this.startedAt, this.held))) this.refused();
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    if (chunk.length === 0) return;
    signal?.throwIfAborted();
    const handle = await this.openHandle('write');
    await this.keepClaim();
    let offset = 0;
    while (offset < chunk.length) {
      // between writes: what is on disk stays a prefix of the chunk, which the size then reports
      if (signal?.aborted) {
        this.written += offset;
        signal.throwIfAborted();
      }
      offset += await handle.write(chunk, offset, chunk.length - offset);
    }
    this.written += chunk.length;
    this.startEarlySync(handle);
    this.startEndingSync(handle);
  }

  expectSize(size: number): void {
    this.expectedSize = size;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    this.closed = true;
    if (!handle) return;
    try {
      if (!this.finished && this.written !== this.durableUpTo) await this.syncWritten(handle, this.firstUse !== 'continue');
      else await Promise.all([this.earlySync, this.endingSync]);
    } finally {
      handle.close();
    }
  }

  /**
   * Makes every byte written so far durable, and with `name` the partial file's entry in its folder. The
   * fdatasync starts at once, beside a running early sync rather than after it: a sync covers all that was
   * written before it started, whatever other syncs run, and waits for pages the early one is still writing.
   */
  private async syncWritten(handle: PartialFile, name: boolean): Promise<void> {
    const upTo = this.written;
    const outcomes = await Promise.allSettled([this.earlySync, this.endingSync, syncFileData(handle), name ? syncDirectory(this.partial) : undefined]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.syncFailure !== undefined) throw this.syncFailure;
    this.madeDurable(upTo);
  }

  /**
   * Records that a finished sync made the bytes up to `upTo` durable, and hands those it newly made so to the
   * driver's page-cache budget (page-cache.ts), which drops the oldest synced upload bytes beyond it: a run of
   * pushes then writes into pages freed there rather than into memory the page cache had not touched, which on
   * this project's VMs may first have to come back from the host (docs/bench.md, "Large uploads, seventh pass").
   */
  private madeDurable(upTo: number): void {
    if (upTo <= this.durableUpTo) return;
    this.keptPages?.synced(this.partial, this.durableUpTo, upTo);
    this.durableUpTo = upTo;
  }

  /**
   * Starts writing back what was written so far while the upload goes on, without waiting for it. Linux
   * starts writing dirty pages back only after 30 s or when gigabytes are dirty, so without this the whole
   * blob (or chunk) would be written to disk by the fdatasync of the commit (or close), after the last byte
   * arrived (about 0.2 s for 256 MiB here), while the client waits. Durability still comes from that last
   * fdatasync; this one only makes it short.
   */
  private startEarlySync(handle: PartialFile): void {
    if (this.earlySync || this.written - this.syncedUpTo < EARLY_SYNC_BYTES) return;
    const running: Promise<void> = this.backgroundSync(handle).then(() => {
      if (this.earlySync === running) this.earlySync = undefined;
    });
    this.earlySync = running;
  }

  /**
   * Once the writer is within ENDING_STRETCH_BYTES of the size its caller expects, what was written so far starts
   * syncing, beside a running early sync, so that the close's fdatasync finds only the last bytes dirty. With
   * early syncs alone (one at a time, every 2 MiB) a chunk ended with 2-3 MiB dirty, whose writeback (about
   * 0.7 ms a MiB here) the client waited for before each 202 (docs/bench.md, "Large uploads, tenth pass").
   * Once per writer: a body that runs on past its expected end is left to the early syncs.
   */
  private startEndingSync(handle: PartialFile): void {
    const expected = this.expectedSize;
    if (this.endingSync || expected === undefined || this.written >= expected || expected - this.written > ENDING_STRETCH_BYTES) return;
    if (this.written - this.syncedUpTo < ENDING_SYNC_BYTES) return;
    this.endingSync = this.backgroundSync(handle);
  }

  /** An fdatasync of what was written so far, in the background: it never rejects, its failure is kept for close and commit. */
  private backgroundSync(handle: PartialFile): Promise<void> {
    const upTo = this.written;
    this.syncedUpTo = upTo;
    return handle.datasync().then(
      () => this.madeDurable(upTo),
      (err: unknown) => {
        this.syncFailure ??= err;
      },
    );
  }

  async cancel(): Promise<void> {
    // a writer that cannot be cancelled any more (refused, closed) still lets go of its descriptor
    if (this.finished || this.closed) await this.close();
    this.assertUsable('cancel');
    this.finished = 'cancelled';
    await this.close();
    await rm(this.partial, { force: true });
    await removeClaims(this.file);
  }

  async commit(signal?: AbortSignal): Promise<void> {
    await this.commitAt(this.file, false, signal);
  }

  /**
   * Commits straight to another path (an upload's verified bytes to their content address): the partial
   * file is renamed there, so the upload's own folder sees no rename and no folder sync first, and the new
   * folders of the destination are made (their parents synced) while the data syncs, since neither needs
   * the other. Durable as commit then move: data synced before the rename, the destination's folder after.
   */
  async commitTo(path: string, signal?: AbortSignal): Promise<void> {
    await this.commitAt(this.place(path), true, signal);
  }

  /** Syncs the data (and makes `dest`'s folders when `newFolders`), then renames the partial file to `dest`. */
  private async commitAt(dest: string, newFolders: boolean, signal?: AbortSignal): Promise<void> {
    const handle = await this.openHandle('commit');
    await this.keepClaim();
    // always, even when this writer wrote nothing: the bytes may be those of a writer whose process died unsynced
    const outcomes = await Promise.allSettled([this.syncWritten(handle, false), newFolders ? makeParentDirectories(dest) : undefined]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    // the last moment to stop: after the rename the object is visible
    signal?.throwIfAborted();
    this.finished = 'committed';
    await this.close();
    renameSync(this.partial, dest);
    this.keptPages?.renamed(this.partial, dest);
    await syncDirectory(dest);
    await removeClaims(this.file);
  }

  private assertUsable(operation: string): void {
    if (this.finished) throw new Error(`${operation} on a writer already ${this.finished}`);
    if (this.closed) throw new Error(`${operation} on a closed writer`);
  }

  private async openHandle(operation: string): Promise<PartialFile> {
    this.assertUsable(operation);
    if (this.handle) return this.handle;
    // the folder first: an appending writer on a path nothing was written to yet claims in it too
    await makeParentDirectories(this.file);
    if (this.firstUse === 'replace') await removeClaims(this.file);
    await this.claim();
    try {
      if (this.firstUse === 'copyCommitted') await copyFile(this.file, this.partial);
      const opened = PartialFile.open(this.partial, this.firstUse === 'replace' ? 'w' : 'a');
      // closed while the claim was taken: the descriptor goes now, since no later close would see it
      if (this.closed || this.finished) opened.close();
      this.assertUsable(operation);
      this.handle = opened;
    } catch (err) {
      // nothing was appended: the size stays free for the next request
      if (this.held) await releaseClaim(this.held);
      this.held = undefined;
      this.claimed = undefined;
      throw err;
    }
    return this.handle;
  }
}

/** Synchronous (see fsync.ts): a stat in an upload's own folder, asked once per upload request. */
async function sizeOf(file: string): Promise<number | undefined> {
  try {
    // no exception built for the usual absence (a fresh upload has neither file)
    const info = statSync(file, { throwIfNoEntry: false });
    return info?.isFile() ? info.size : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}
