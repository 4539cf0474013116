/**
 * The Elliptics storage driver: stowage paths stored as Elliptics keys (the path itself, in the configured
 * namespace), directory listings kept in journals (see listing.ts). Objects written whole are stored as
 * they are, empty ones included (no `EMPTY` placeholder); objects written through a writer are kept as the
 * chunks they arrived in, each its own key, under a descriptor (see chunked.ts: eblob moves a record it has
 * to extend, so growing one key would cost space quadratic in the object's size).
 */
import { addAbortSignal, Readable } from 'node:stream';
import type { DriverErrorFactory, DriverLogger, FileInfo, FileWriter, StorageDriver } from 'stowage';
import { withSignal } from '@stowage/backend-kit';
import { newClaimRecord } from '@stowage/backend-kit';
import { type ChunkEntry, ChunkStore, JournalChanged, claimLine } from './chunked.js';
import { DirectoryIndex, baseName, childPath, parentOf } from './listing.js';
import { ObjectStore, rechunk, systemClock } from './objects.js';
import { PendingDeletes } from './pending-deletes.js';
import type { EllipticsClient, ReplicaInfo } from './protocol/client.js';
import { keyId } from './protocol/ids.js';

const toDate = (mtime: { tsec: number; tnsec: number }): Date => new Date(mtime.tsec * 1000 + Math.floor(mtime.tnsec / 1e6));

/** What is stored at a path: a record of its own, or chunks under a descriptor. */
type StoredObject =
  | { readonly kind: 'record'; readonly replica: ReplicaInfo; readonly size: number }
  | { readonly kind: 'chunked'; readonly replica: ReplicaInfo; readonly size: number; readonly chunks: readonly ChunkEntry[] };

export interface DriverParts {
  client: EllipticsClient;
  namespace: string;
  chunkSize: number;
  errors: DriverErrorFactory;
  logger: DriverLogger;
  /** releases what the factory set up besides the client (the log file) */
  onClose?: () => void;
}

export class EllipticsDriver implements StorageDriver {
  readonly name = 'elliptics';
  private readonly client: EllipticsClient;
  private readonly objects: ObjectStore;
  private readonly index: DirectoryIndex;
  private readonly chunks: ChunkStore;
  private readonly pendingDeletes: PendingDeletes;
  private readonly errors: DriverErrorFactory;
  private readonly namespace: string;
  private readonly onClose: (() => void) | undefined;

  constructor(parts: DriverParts) {
    this.onClose = parts.onClose;
    this.client = parts.client;
    this.errors = parts.errors;
    this.namespace = parts.namespace;
    this.objects = new ObjectStore(parts.client, parts.chunkSize);
    this.index = new DirectoryIndex(parts.client, this.objects, (dir) => this.id(`dir:${dir}`), systemClock);
    this.chunks = new ChunkStore(parts.client, this.objects, (key) => this.id(key), systemClock);
    this.pendingDeletes = new PendingDeletes(parts.client, this.objects, this.id('pending-deletes'), systemClock);
  }

  private id(key: string): Buffer {
    return keyId(key, this.namespace);
  }

  /**
   * The object at `path`: its own record first (what `putContent` writes), then a chunk descriptor (what a
   * writer's commit writes). Each of those writes removes the other kind after it wrote, and a commit removes
   * the record before it writes its descriptor, so when a crash leaves both the record is the newer one.
   */
  private async storedAt(path: string): Promise<StoredObject | undefined> {
    const replica = await this.client.newest(this.id(path));
    if (replica) return { kind: 'record', replica, size: replica.size };
    const chunked = await this.chunks.descriptor(path);
    return chunked && { kind: 'chunked', ...chunked };
  }

  private async requireStored(path: string): Promise<StoredObject> {
    const stored = await this.storedAt(path);
    if (!stored) throw this.errors.pathNotFound(path);
    return stored;
  }

  private bytesOf(path: string, stored: StoredObject, offset = 0): AsyncGenerator<Buffer> {
    return stored.kind === 'record' ? this.objects.chunks(this.id(path), stored.replica, offset) : this.chunks.bytes(stored.chunks, offset);
  }

  // The calls that only read run in the scope of their signal: a client that went away abandons the
  // LOOKUP or READ in flight (client.ts), not only the next one. Calls that write are not cut short
  // between their steps: they check the signal where stopping leaves storage consistent.

  async getContent(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    return withSignal(signal, async () => {
      const stored = await this.requireStored(path);
      if (stored.kind === 'record') return this.objects.readAll(this.id(path), stored.replica);
      const parts: Buffer[] = [];
      for await (const part of this.bytesOf(path, stored)) {
        signal?.throwIfAborted();
        parts.push(part);
      }
      return Buffer.concat(parts);
    });
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    await this.objects.write(this.id(path), content.length, [content]);
    await this.chunks.drop(path);
    await this.index.added(path);
  }

  /** The stream ends with the signal, and so does the READ it is waiting on. */
  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const stored = await withSignal(signal, () => this.requireStored(path));
    if (offset > stored.size) throw this.errors.invalidOffset(path, offset);
    if (!signal) return Readable.from(this.bytesOf(path, stored, offset), { objectMode: false });
    // The stream is pulled from the HTTP response's context, not this call's: each step is put back in the signal's scope.
    const bytes = this.bytesOf(path, stored, offset);
    const steps = { [Symbol.asyncIterator]: () => ({ next: () => withSignal(signal, () => bytes.next()), return: () => bytes.return(undefined) }) };
    return addAbortSignal(signal, Readable.from(steps, { objectMode: false }));
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const upload = await this.chunks.stagedUpload(path);
    const staged = upload && [...upload.entries, ...upload.orphaned];
    // a staged upload was noted in its directory when its first chunk was stored (the note outlives it)
    let noted = staged !== undefined;
    let size = 0;
    // the journal this writer has seen: its appends and its commit apply only while the journal is still that
    let journal = upload?.journal;
    // What the writer must do to storage before its first chunk; deferred to that chunk (or the commit), so a
    // writer closed without being written to changes nothing.
    let prepare: (() => Promise<Upload>) | undefined;
    if (append) {
      if (upload) {
        // the acknowledged chunks: a claim in progress is another writer's, taken over or refused at the first write
        size = closedSize(upload);
      } else {
        // Appending to committed content continues from it, as a file system would: its bytes are staged
        // as new chunks (never shared, so deleting either object leaves the other whole).
        const committed = await this.storedAt(path);
        if (committed && committed.size > 0) {
          size = committed.size;
          prepare = async () => {
            let copied = 0;
            for await (const piece of rechunk(this.bytesOf(path, committed), this.objects.chunkSize)) {
              journal = await this.stage(path, piece, !noted, journal, copied, copied === 0 ? claimLine(newClaimRecord()) : '');
              copied += piece.length;
              noted = true;
            }
            return { noted, journal, claimed: true };
          };
        }
      }
    } else if (staged) {
      prepare = async () => {
        await this.chunks.unstage(path, staged);
        return { noted, journal: undefined, claimed: false };
      };
    }
    const heldByOther = append && upload?.claim ? upload.claim : undefined;
    return new EllipticsWriter(this, path, size, this.objects.chunkSize, noted, journal, prepare, heldByOther);
  }

  async uploadSize(path: string, signal?: AbortSignal): Promise<number> {
    return withSignal(signal, async () => {
      const upload = await this.chunks.stagedUpload(path);
      if (upload) return closedSize(upload);
      return (await this.requireStored(path)).size;
    });
  }

  async stat(path: string, signal?: AbortSignal): Promise<FileInfo> {
    return withSignal(signal, () => this.statNow(path));
  }

  private async statNow(path: string): Promise<FileInfo> {
    if (path !== '/') {
      const stored = await this.storedAt(path);
      if (stored) return { path, size: stored.size, modTime: toDate(stored.replica.mtime), isDir: false };
    }
    const dir = await this.client.newest(this.id(`dir:${path}`));
    if (path === '/' || (dir && (await this.index.children(path)).length > 0)) {
      return { path, size: 0, modTime: dir ? toDate(dir.mtime) : new Date(0), isDir: true };
    }
    throw this.errors.pathNotFound(path);
  }

  async list(path: string, signal?: AbortSignal): Promise<string[]> {
    const names = await withSignal(signal, () => this.index.children(path));
    if (names.length === 0 && path !== '/') throw this.errors.pathNotFound(path);
    return names.map((name) => childPath(path, name));
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    // An object cannot become a directory holding itself (a file system refuses the same).
    if (destPath.startsWith(`${sourcePath}/`)) throw this.errors.invalidPath(destPath);
    const source = await this.requireStored(sourcePath);
    if (source.kind === 'record') {
      // Elliptics has no server-side copy: the bytes stream through, chunk by chunk.
      await this.objects.write(this.id(destPath), source.size, this.bytesOf(sourcePath, source));
      await this.chunks.drop(destPath);
      await this.index.added(destPath);
      // the source leaves the listing before it goes (see `delete`); its directory's journal still names it
      await this.index.removed(sourcePath);
      await this.client.removeQuorum(this.id(sourcePath));
    } else {
      // A chunked object moves by its descriptor: the chunks stay where they are.
      await this.chunks.markMoving(sourcePath, source.chunks, destPath);
      await this.client.removeQuorum(this.id(destPath));
      await this.chunks.removeChunks(await this.chunks.publish(destPath, source.chunks));
      await this.index.added(destPath);
      await this.index.removed(sourcePath);
      await this.chunks.drop(sourcePath, true);
    }
  }

  /**
   * Takes `path` out of the listings first and removes what it holds after, so a process killed in between
   * leaves at worst objects no listing names, never a listed name that is gone (a tag that does not
   * resolve). The delete is noted in `pending-deletes` for its duration, and upload purging finishes one a
   * crash cut short (`purgeTemporaries`). Before the top leaves its parent's listing, every directory below
   * it is emptied in its own journal, deepest first: a put below a directory a crash left then sees it empty
   * and lists it in its parent again, as it would a new one (see listing.ts, `added`).
   */
  async delete(path: string): Promise<void> {
    const tree = await this.collectTree(path);
    const present = tree.get(path)?.present.length
      ? true
      : path !== '/' && ((await this.index.lists(parentOf(path), baseName(path))) || (await this.holdsObject(path)));
    // a directory no listing names may still hold what a crashed delete left: only its removal tells
    if (!present && tree.size === 0) throw this.errors.pathNotFound(path);
    const token = await this.pendingDeletes.begin(path);
    for (const [dir, names] of [...tree].reverse()) await this.index.unlist(dir, names.present);
    await this.index.removed(path);
    const removed = await this.removeTree(path, tree);
    await this.pendingDeletes.end(token);
    if (!present && !removed) throw this.errors.pathNotFound(path);
  }

  /**
   * Finishes the deletes a crash cut short that began before `olderThan`: what they left is removed unless
   * their path is listed again (the crash came before it left its listing, or a put since made it anew;
   * either way a client sees it and can delete it). Answers a line per delete finished (or that would be).
   */
  async purgeTemporaries(olderThan: Date, dryRun: boolean, signal?: AbortSignal): Promise<string[]> {
    const finished: string[] = [];
    for (const pending of await this.pendingDeletes.list()) {
      signal?.throwIfAborted();
      if (pending.startedAt >= olderThan) continue;
      finished.push(`pending-deletes: ${pending.path} (begun ${pending.startedAt.toISOString()})`);
      if (dryRun) continue;
      if (!(await this.index.lists(parentOf(pending.path), baseName(pending.path)))) {
        const tree = await this.collectTree(pending.path);
        for (const [dir, names] of [...tree].reverse()) await this.index.unlist(dir, names.present);
        await this.removeTree(pending.path, tree);
      }
      // the crash may have come between taking an emptied parent out of its listing and putting it back
      // when a concurrent put had filled it (listing.ts, `removed`)
      await this.index.relist(parentOf(pending.path));
      await this.pendingDeletes.end(pending.token);
    }
    if (!dryRun && finished.length > 0) await this.pendingDeletes.compact();
    return finished;
  }

  async close(): Promise<void> {
    await this.client.close();
    this.onClose?.();
  }

  /**
   * The directories at and below `path` with the names their journals list now and ever listed, read
   * before anything changes; parents before their children (a Map keeps that order).
   */
  private async collectTree(path: string, tree = new Map<string, { present: string[]; everListed: string[] }>()): Promise<Map<string, { present: string[]; everListed: string[] }>> {
    const names = await this.index.names(path);
    if (names.everListed.length === 0) return tree;
    tree.set(path, names);
    for (const name of names.everListed) await this.collectTree(childPath(path, name), tree);
    return tree;
  }

  /** Whether an object (written whole, committed by a writer, or staged) or a staged upload below it is at `path`. */
  private async holdsObject(path: string): Promise<boolean> {
    return (await this.storedAt(path)) !== undefined || (await this.chunks.staged(path)) !== undefined || (await this.chunks.stagedNames(path)).length > 0;
  }

  /** Removes the object at `path` and everything its directory journals in `tree` ever listed below it; false when nothing was stored. */
  private async removeTree(path: string, tree: ReadonlyMap<string, { everListed: string[] }>): Promise<boolean> {
    let removed = false;
    const names = tree.get(path)?.everListed ?? [];
    for (const name of names) removed = (await this.removeTree(childPath(path, name), tree)) || removed;
    if (names.length > 0) await this.index.drop(path);
    // uploads staged in this directory: no listing names them, so they are found through `staged:<dir>`
    const stagedNames = await this.chunks.stagedNames(path);
    for (const name of stagedNames) removed = (await this.discard(childPath(path, name))) || removed;
    if (stagedNames.length > 0) await this.chunks.forgetStagedNames(path);
    const removedRecord = await this.client.removeQuorum(this.id(path));
    const removedChunked = await this.chunks.drop(path);
    const discarded = await this.discard(path);
    return removed || removedRecord || removedChunked || discarded;
  }

  // ---- used by the writer

  /**
   * @internal stores a chunk and adds it to the upload staged for `path` (noting the upload in its directory
   * first), if the upload's journal is still `seen`; resolves to the journal after it. A writer overtaken by
   * another (the journal changed) is refused with INVALID_OFFSET at `offset`, and its chunk removed.
   */
  async stage(path: string, data: Buffer, first: boolean, seen: Buffer | undefined, offset: number, claim: string): Promise<Buffer> {
    if (first) await this.chunks.noteStaged(parentOf(path), baseName(path));
    const entry = await this.chunks.writeChunk(data);
    try {
      return await this.chunks.stage(path, entry, seen, claim);
    } catch (err) {
      if (!(err instanceof JournalChanged)) throw err;
      await this.chunks.removeChunks([entry]);
      throw this.errors.invalidOffset(path, offset);
    }
  }

  /** @internal claims the upload staged for `path` for a commit, if its journal is still `seen` (INVALID_OFFSET otherwise) */
  async claimCommit(path: string, seen: Buffer | undefined, offset: number, claim: string): Promise<void> {
    try {
      await this.chunks.claimCommit(path, seen, claim);
    } catch (err) {
      if (err instanceof JournalChanged) throw this.errors.invalidOffset(path, offset);
      throw err;
    }
  }

  /** @internal acknowledges the chunks of the writer's claim on `path`, if its journal is still `seen` (INVALID_OFFSET otherwise) */
  async closeClaim(path: string, seen: Buffer | undefined, offset: number): Promise<Buffer> {
    try {
      return await this.chunks.closeClaim(path, seen);
    } catch (err) {
      if (err instanceof JournalChanged) throw this.errors.invalidOffset(path, offset);
      throw err;
    }
  }

  /** @internal the refusal of a writer at `offset` whose upload another writer holds */
  refused(path: string, offset: number): Error {
    return this.errors.invalidOffset(path, offset);
  }

  /** @internal makes the staged upload of `path`, exactly `size` bytes, the object at `path` */
  async publish(path: string, size: number): Promise<void> {
    // the committing writer holds the claim in progress, so the entries are the closed ones and its own
    const upload = await this.chunks.stagedUpload(path);
    const staged = upload?.entries ?? [];
    const chunks: ChunkEntry[] = [];
    let total = 0;
    for (const entry of staged) {
      if (total >= size) break;
      chunks.push(entry);
      total += entry[1];
    }
    if (total !== size) throw new Error(`elliptics: the upload staged for ${path} holds ${total} of ${size} bytes`);
    await this.client.removeQuorum(this.id(path));
    await this.chunks.removeChunks(await this.chunks.publish(path, chunks));
    await this.index.added(path);
    await this.chunks.unstage(path, [...staged.slice(chunks.length), ...(upload?.orphaned ?? [])]);
  }

  /** @internal drops the upload staged for `path` with its chunks; false when there was none */
  async discard(path: string): Promise<boolean> {
    const staged = await this.chunks.staged(path);
    if (!staged) return false;
    // the chunks before the journal naming them: a crash in between leaves a journal a later delete finds
    await this.chunks.removeChunks(staged);
    await this.chunks.unstage(path, 'keep-chunks');
    return true;
  }
}

/** Buffers up to one chunk and stores each full chunk as its own key; commit publishes the list. */
/** What a writer knows of its upload: whether it is noted in its directory, and its journal as last seen. */
interface Upload {
  readonly noted: boolean;
  readonly journal: Buffer | undefined;
  /** whether the writer's claim is in the journal */
  readonly claimed: boolean;
}

/** The bytes of the chunks writers closed on: what the upload acknowledged. */
const closedSize = (upload: { entries: readonly ChunkEntry[]; closedCount: number }): number =>
  upload.entries.slice(0, upload.closedCount).reduce((sum, [, bytes]) => sum + bytes, 0);

class EllipticsWriter implements FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushed: number;
  private state: 'open' | 'closed' | 'committed' | 'cancelled' | 'refused' = 'open';

  constructor(
    private readonly driver: EllipticsDriver,
    private readonly path: string,
    size: number,
    private readonly chunkSize: number,
    /** whether the upload is already noted in its directory (a writer continuing a staged upload) */
    private noted: boolean,
    /** the upload's journal as this writer last saw it (undefined: none) */
    private journal: Buffer | undefined,
    /** what storage needs before the first chunk (dropping an older upload, staging committed bytes), run once */
    private prepare: (() => Promise<Upload>) | undefined,
    /** another writer's claim in progress when this one opened: refused while its holder lives, else taken over */
    private readonly heldByOther: { readonly abandoned: boolean } | undefined,
  ) {
    this.flushed = size;
  }

  /** whether this writer's claim is in the journal */
  private claimed = false;

  private async prepared(): Promise<void> {
    if (!this.prepare) return;
    ({ noted: this.noted, journal: this.journal, claimed: this.claimed } = await this.refusedUnless(this.prepare()));
    this.prepare = undefined;
  }

  /** The claim line to put before this writer's first line ('' once it holds the claim); refused while another holds it. */
  private claimToAppend(): string {
    if (this.claimed) return '';
    if (this.heldByOther && !this.heldByOther.abandoned) throw this.driver.refused(this.path, this.flushed);
    return claimLine(newClaimRecord());
  }

  get size(): number {
    return this.flushed + this.pendingBytes;
  }

  async write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    this.assertOpen('write');
    signal?.throwIfAborted();
    // The caller may reuse its chunk once this resolves, so keep a copy.
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.chunkSize) await this.flush(signal);
  }

  async close(): Promise<void> {
    if (this.state === 'open') await this.flush();
    // what this writer staged becomes the upload's (a writer that staged nothing writes nothing)
    if (this.state === 'open' && this.claimed) this.journal = await this.refusedUnless(this.driver.closeClaim(this.path, this.journal, this.flushed));
    if (this.state === 'open') this.state = 'closed';
  }

  async cancel(): Promise<void> {
    this.assertOpen('cancel');
    this.state = 'cancelled';
    this.pending = [];
    this.pendingBytes = 0;
    await this.driver.discard(this.path);
  }

  async commit(): Promise<void> {
    this.assertOpen('commit');
    await this.prepared();
    await this.flush();
    await this.refusedUnless(Promise.resolve().then(() => this.driver.claimCommit(this.path, this.journal, this.flushed, this.claimToAppend())));
    this.claimed = true;
    await this.driver.publish(this.path, this.flushed);
    this.state = 'committed';
  }

  /** Stages what is pending, a chunk at a time; stops between chunks when `signal` aborts (what was staged stays). */
  private async flush(signal?: AbortSignal): Promise<void> {
    if (this.pendingBytes === 0) return;
    await this.prepared();
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for await (const piece of rechunk(pending, this.chunkSize)) {
      signal?.throwIfAborted();
      this.journal = await this.refusedUnless(Promise.resolve().then(() => this.driver.stage(this.path, piece, !this.noted, this.journal, this.flushed, this.claimToAppend())));
      this.claimed = true;
      this.noted = true;
      this.flushed += piece.length;
    }
  }

  /** A writer refused once (overtaken by another) stays refused: it writes nothing more, close included. */
  private async refusedUnless<T>(step: Promise<T>): Promise<T> {
    try {
      return await step;
    } catch (err) {
      if ((err as { code?: unknown }).code === 'INVALID_OFFSET') {
        this.state = 'refused';
        this.pending = [];
        this.pendingBytes = 0;
      }
      throw err;
    }
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new Error(`elliptics writer for ${this.path}: ${operation} after ${this.state}`);
  }
}
