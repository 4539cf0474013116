/**
 * The storage driver contract: the one interface a storage plugin implements.
 *
 * It is CNCF distribution's StorageDriver, in TypeScript: a path-addressed store of objects with
 * whole-object get/put for small content, a reader from an offset, a resumable writer that becomes
 * visible only on commit, stat, a listing of direct children, move and recursive delete.
 *
 * Paths are absolute, `/`-separated and match `^(/[A-Za-z0-9._-]+)+$` (the root `/` only for `list`,
 * `stat` and `walk`). stowage validates paths and offsets before a driver sees them (see base.ts), so a
 * driver only implements the storage itself.
 *
 * Errors are recognised by their `code` (see errors.ts), never by class identity: a plugin installed
 * from npm has no runtime dependency on stowage, so it builds its errors with `context.errors`.
 *
 * Version 2 of the contract (STORAGE_API_VERSION) adds, to version 1:
 * - a trailing `signal?: AbortSignal` on every call: it aborts when the client whose request caused the call
 *   went away, and a driver that passes it on to its backend requests (undici, fs) stops work nobody waits for;
 * - `uploadSize(path)`: the size of an uncommitted upload, read without opening a writer (a status read must
 *   never write);
 * - the rule that a writer which was written nothing persists nothing when closed;
 * - `context.errors.storageFailed` for a backend failure the driver gives up on.
 * A version-1 plugin still loads: stowage adapts it (src/plugins/driver-shape.ts).
 */
import type { Readable } from 'node:stream';

export interface FileInfo {
  /** the path asked for, as given */
  readonly path: string;
  /** bytes; 0 for a directory */
  readonly size: number;
  readonly modTime: Date;
  readonly isDir: boolean;
}

/**
 * A writer that can be closed and reopened in append mode until it is committed: the primitive
 * behind resumable (chunked) blob uploads. Content is readable at its path only after `commit()`.
 */
export interface FileWriter {
  /** bytes written so far, including those written by earlier writers on the same path */
  readonly size: number;
  /** resolves when the chunk may be reused by the caller (backpressure) */
  write(chunk: Uint8Array, signal?: AbortSignal): Promise<void>;
  /**
   * Flushes what was written; the content stays appendable by a later `writer(path, true)`. A writer that
   * was written nothing persists nothing: closing it leaves storage exactly as opening it found it.
   */
  close(signal?: AbortSignal): Promise<void>;
  /** discards everything written; nothing becomes visible */
  cancel(signal?: AbortSignal): Promise<void>;
  /** makes the content visible at the path; `close()` is still called afterwards */
  commit(signal?: AbortSignal): Promise<void>;
  /**
   * Optional: makes the content visible at `path` instead of the writer's own path, as `commit` and then
   * `move(own path, path)` would, in fewer steps (an upload's verified bytes go straight to their content
   * address: no rename and folder sync inside the upload first, and the new folder is made while the data
   * syncs). Durable once it resolves; the writer's own path stays as the writer found it; `close()` is
   * still called.
   */
  commitTo?(path: string, signal?: AbortSignal): Promise<void>;
  /**
   * Optional hint: the caller expects to have written `size` bytes in all (the `size` above) when it closes or
   * commits: a request's declared length. A writer may start making the bytes durable before the last ones
   * arrive, so that the close or commit waits for less. Only a hint: fewer or more bytes may come, and nothing a
   * caller can see changes.
   */
  expectSize?(size: number): void;
}

export interface WalkOptions {
  /** the walk may skip entries that sort lexically before or at this path (a hint, not a promise) */
  readonly startAfter?: string;
}

/** Returned by a walk callback: `'skipDir'` does not descend into this directory, `'stop'` ends the walk. */
export type WalkControl = void | 'skipDir' | 'stop';
export type WalkFn = (info: FileInfo) => WalkControl | Promise<WalkControl>;

/** One page of a sorted listing (`listAfter`). */
export interface ListedPage {
  /** full paths of the children, in lexical (code unit) order of their names */
  readonly children: string[];
  /** whether more children follow the last one */
  readonly more: boolean;
}

/** One object of a `putContents` call. */
export interface ObjectContent {
  readonly path: string;
  readonly content: Uint8Array;
}

export interface RedirectOptions {
  readonly method: 'GET' | 'HEAD';
  /** seconds the URL should stay valid */
  readonly expiresIn?: number;
}

/**
 * The key of an optional method on the stream `reader` returns, for objects with cheap reads at a position
 * (files): `stream[READ_AT](buffer, length, position)` reads up to `length` bytes of the object from
 * `position` (counted from the object's start, not from the reader's offset) into `buffer` at index 0 and
 * resolves how many it read, 0 only at the end of the object.
 *
 * A caller that uses it never reads the stream itself and destroys the stream when done (which releases the
 * object). stowage serves blobs that way when the method is there: it copies the object into the response
 * with a few buffers it reuses, instead of taking a freshly allocated buffer per chunk from the stream, which
 * on a large pull costs more CPU than the copy itself (garbage collection; see docs/bench.md).
 *
 * A registered symbol, so a plugin attaches it without a runtime import of stowage:
 * `Symbol.for('stowage.storage.readAt')`.
 */
export const READ_AT = Symbol.for('stowage.storage.readAt');

/** The method under READ_AT: bytes read into `buffer[0..)`, 0 at the end of the object. */
export type ReadAt = (buffer: Uint8Array, length: number, position: number) => Promise<number>;

/** The stream's READ_AT method (bound to the stream), or undefined when it has none. */
export function readAtOf(stream: Readable): ReadAt | undefined {
  const method = (stream as unknown as Partial<Record<typeof READ_AT, unknown>>)[READ_AT];
  return typeof method === 'function' ? (method.bind(stream) as ReadAt) : undefined;
}

/**
 * The contract. Every call takes an optional trailing `signal`: when it aborts, the driver may stop and
 * reject (with the signal's reason or any error); what it already did must leave storage consistent, as
 * after a crash. A driver that ignores the signal is correct, only wasteful.
 */
export interface StorageDriver {
  /** the plugin's name, stamped into every error the driver raises */
  readonly name: string;

  /** The whole object; meant for small objects. PATH_NOT_FOUND when missing. */
  getContent(path: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Replaces the whole object. */
  putContent(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void>;
  /**
   * Streams the object from `offset`; offset == size yields an empty stream. The stream may offer READ_AT.
   * The signal covers opening the stream; the caller destroys the stream to stop reading.
   */
  reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable>;
  /**
   * A writer at `path`; with `append` it continues an uncommitted (or empty, or missing) object. Of two
   * appending writers opened at one size, including 0 on a path that holds nothing, only the first to write
   * goes on; the other is refused with INVALID_OFFSET having stored nothing. stowage builds its conditional
   * writes on that (two processes continuing one upload, the collector's lease).
   */
  writer(path: string, append: boolean, signal?: AbortSignal): Promise<FileWriter>;
  /**
   * The bytes an uncommitted upload at `path` holds: the `size` a `writer(path, true)` would start with,
   * found without opening a writer, and without writing anything. PATH_NOT_FOUND when there is neither an
   * upload nor an object at `path`.
   */
  uploadSize(path: string, signal?: AbortSignal): Promise<number>;
  stat(path: string, signal?: AbortSignal): Promise<FileInfo>;
  /**
   * Full paths of the direct children of a directory, in any order. `list('/')` always succeeds.
   * A folder is listed only once an object below it is complete (`putContent` makes the folders it needs
   * appear with the object, as a prefix appears on an object store), even after a crash: the registry lists
   * a tag as soon as its folder is listed, and writes the tag's current link first.
   */
  list(path: string, signal?: AbortSignal): Promise<string[]>;
  /** Moves an object, overwriting `destPath`; PATH_NOT_FOUND (destination untouched) when `sourcePath` is missing. */
  move(sourcePath: string, destPath: string, signal?: AbortSignal): Promise<void>;
  /**
   * Deletes a path and everything below it; deleting `/a` never touches `/ab`. A folder holding one object
   * leaves its parent's listing no later than that object goes (on an object store, with it; on a
   * filesystem, the folder is renamed aside first), so a crash never leaves it listed and empty.
   */
  delete(path: string, signal?: AbortSignal): Promise<void>;

  /** A URL a client may fetch the object from directly, or undefined for "serve it yourself". */
  redirectURL?(path: string, options: RedirectOptions, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * The direct children of a directory whose names sort after `after` (all when undefined), in lexical
   * (code unit) order, at most `limit` of them; PATH_NOT_FOUND as `list`. A page of tags or of the catalog
   * costs what it shows when this does: an object store lists from a marker, the filesystem driver keeps a
   * folder's sorted listing while the folder's change time says it is unchanged. stowage falls back to one
   * `list`, sorted, when a driver has none.
   */
  listAfter?(path: string, after: string | undefined, limit: number, signal?: AbortSignal): Promise<ListedPage>;
  /**
   * Readies directory `path`'s sorted listing for `listAfter` in any process sharing the storage, as it is
   * now: the filesystem driver writes a large folder's listing to a file beside it, so that the first page of
   * 100,000 tags in a process that has not read the folder yet reads that file instead (trusted only while the
   * folder is unchanged). Nothing when the directory does not exist. stowage calls it for every repository's
   * tags when it rebuilds the catalog index (`stowage catalog rebuild`); a driver that lists from a marker
   * has nothing to ready, and none.
   */
  prepareListing?(path: string, signal?: AbortSignal): Promise<void>;
  /** Depth-first, lexically ordered walk. stowage falls back to list + stat when a driver has none. */
  walk?(path: string, fn: WalkFn, options?: WalkOptions, signal?: AbortSignal): Promise<void>;
  /**
   * A stamp of the object at `path` as it is now, taken synchronously and cheaply (a local stat, never a
   * network request, since it holds up the whole process): the same stamp later means the object still holds
   * the content it held when the first was taken, whoever wrote since (this process or another sharing the
   * storage). Undefined when the driver cannot promise that now: no object there, or one changed too
   * recently for its times to tell a later change apart. stowage keeps link files (a tag's digest, a
   * revision link) in memory under their stamps, so a manifest GET checks its links with a stamp each
   * instead of reading them. A driver without such a check has none, and its links are read every time.
   */
  contentStampSync?(path: string): string | undefined;
  /**
   * Stores `objects` (distinct paths) as `putContent` one after the other in the given order would, and as
   * durably: no reader, not even after a crash, finds one of them stored without every one before it. Objects
   * that land below one folder that does not exist yet may appear with it together. What a driver gains over
   * single puts is doing the slow part side by side: the filesystem driver writes and syncs every file first
   * and then only renames them into place in order, so a manifest push waits for one round of syncs instead
   * of one per link. stowage falls back to one `putContent` after another when a driver has none.
   */
  putContents?(objects: readonly ObjectContent[], signal?: AbortSignal): Promise<void>;
  /** Releases connections and timers when the registry shuts down. */
  close?(): Promise<void>;
  /**
   * Removes the driver's own temporary objects that interrupted writes left behind (a process killed
   * between writing a temporary file and renaming it into place, say) and that were last modified before
   * `olderThan`; answers a name for each one removed, or that would be on a dry run. stowage calls it from
   * upload purging (storage.maintenance.uploadpurging), with the same age. A driver whose writes leave
   * nothing behind outside upload sessions has none.
   */
  purgeTemporaries?(olderThan: Date, dryRun: boolean, signal?: AbortSignal): Promise<string[]>;
  /**
   * Writes like `putContent` (never partly visible, folders appear with the object), except that the object
   * need not survive a crash until `persist` is called on it: for an object that holds nothing a client was
   * promised yet (an upload session's start, until its first byte is acknowledged), whose syncs would
   * otherwise be most of a small push's cost. Offered together with `persist`; a driver whose every write is
   * durable anyway offers neither, and stowage calls `putContent` instead.
   */
  putVolatile?(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void>;
  /**
   * Makes an object written by `putVolatile` survive a crash: its content, its name and the names of the
   * folders on its way. PATH_NOT_FOUND when it is not there (a crash took it, or it was deleted).
   */
  persist?(path: string, signal?: AbortSignal): Promise<void>;
  /**
   * `stat`, answering undefined where `stat` fails with PATH_NOT_FOUND: for the checks whose usual answer is
   * "not there" (a pushed blob not stored yet), which then build no error (a stack capture and a throw through
   * every wrapper). stowage falls back to `stat` and catching PATH_NOT_FOUND when a driver has none.
   */
  statIfPresent?(path: string, signal?: AbortSignal): Promise<FileInfo | undefined>;
  /**
   * `uploadSize`, answering undefined where `uploadSize` fails with PATH_NOT_FOUND (a session that received
   * nothing yet: every small push's PUT asks). Fallback as `statIfPresent`.
   */
  uploadSizeIfPresent?(path: string, signal?: AbortSignal): Promise<number | undefined>;
}

/**
 * A driver written for contract version 1: no `uploadSize`, no signals. stowage still loads it (see
 * src/plugins/driver-shape.ts); new drivers implement StorageDriver.
 */
export type StorageDriverV1 = Omit<StorageDriver, 'uploadSize'> & { uploadSize?: undefined };

/** What stowage hands a driver factory besides its validated options. */
export interface DriverContext {
  readonly logger: DriverLogger;
  readonly errors: DriverErrorFactory;
  /** the folder relative paths in the options are resolved against (the config file's folder) */
  readonly baseDir: string;
}

export interface DriverLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface DriverErrorFactory {
  pathNotFound(path: string): Error;
  invalidPath(path: string): Error;
  invalidOffset(path: string, offset: number): Error;
  unsupported(operation: string): Error;
  /**
   * The backend failed and the driver gives up (after its own retries): STORAGE_FAILED, which clients see
   * as 503 "try again later". `message` is logged, never sent to the client; `cause` keeps the original.
   */
  storageFailed(message: string, cause?: unknown): Error;
}

/** The factory a plugin's entry module exports as `createDriver` (or as its default export). */
export type DriverFactory<Options = Record<string, unknown>> = (
  options: Options,
  context: DriverContext,
) => StorageDriver | Promise<StorageDriver>;

/** The factory of a plugin whose manifest says `apiVersion: 1`. */
export type DriverFactoryV1<Options = Record<string, unknown>> = (
  options: Options,
  context: DriverContext,
) => StorageDriverV1 | Promise<StorageDriverV1>;

/** The driver contract version this stowage implements; a plugin's manifest names the one it was written for. */
export const STORAGE_API_VERSION = 2;
/** The older contract versions this stowage still loads, through an adapter. */
export const SUPPORTED_STORAGE_API_VERSIONS: readonly number[] = [1, 2];
