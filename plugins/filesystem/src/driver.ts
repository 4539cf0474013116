/**
 * The filesystem driver: objects are files under `rootdirectory`, directories are directories,
 * exactly as distribution lays them out, so a tree written by `registry:2` is served unchanged.
 */
import { closeSync, type Dirent, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFile as readFileCallback, renameSync, stat as statCallback, statSync, unlinkSync, type BigIntStats, type Stats } from 'node:fs';
import { lstat, open, readdir, rm, rmdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { DriverContext, FileInfo, FileWriter, ListedPage, ObjectContent, ReadAt, StorageDriver } from 'stowage';
import { firstMissingFolder, foldersFrom } from './folders.js';
import { fsyncDirectory, makeParentDirectories, syncDirectory, syncDirectoryOf, syncFileAt, writeAllSync, writeNewFileDurably, writeNewFileUnsynced } from './fsync.js';
import { onLocalFilesystem } from './local-filesystem.js';
import { putInOrder } from './ordered-puts.js';
import type { KeptPages } from './page-cache.js';
import { READ_AHEAD_FROM_SIZE, ReadAhead } from './read-ahead.js';
import { replaceFile } from './replace-file.js';
import { SettledTimes } from './settled-times.js';
import { SPARE_FRESH_MS, type SpareFolder, SpareFolders } from './spare-folders.js';
import { type NamePage, SortedListings } from './sorted-listings.js';
import { probeStamping } from './stamp-probe.js';
import { purgeTemporaryFiles, temporaryPathOf } from './temporaries.js';
import { touchIfUnchanged } from './unchanged-content.js';
import { openWriter, partialPathOf, removeClaims, uploadSizeOf } from './writer.js';

/**
 * Bytes per chunk of a reader's stream. Node's default (64 KiB) makes a 100 MB object 1600 reads, each a
 * thread-pool round trip, a freshly allocated buffer and a socket write downstream (docs/bench.md).
 */
export const READ_CHUNK_SIZE = 1024 * 1024;

/** stowage's READ_AT (a registered symbol: the plugin needs no runtime import of stowage). */
const READ_AT = Symbol.for('stowage.storage.readAt');

/**
 * The callback forms of the two reads every manifest and tag request makes (link files, manifest bytes, stats):
 * node 20's `fs/promises` versions cost about twice the CPU per call (a FileHandle object and a promise per
 * step of open, fstat, read, close), which made them most of a manifest GET's CPU (docs/bench.md).
 */
const readFile = (file: string, signal: AbortSignal | undefined): Promise<Buffer> =>
  new Promise((resolve, reject) => readFileCallback(file, { signal }, (err, content) => (err ? reject(err) : resolve(content))));
const stat = promisify(statCallback);

const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/** A path of the storage grammar (src/storage/paths.ts) with no `.` or `..` name: it needs no normalising. */
const PLAIN_PATH = /^(\/(?!\.\.?(?:\/|$))[A-Za-z0-9._-]+)+$/;

/** how often a write looks again for the folders it must make when other writers keep making them first */
const MAX_FOLDER_ATTEMPTS = 16;
const isMissing = (err: unknown): boolean => MISSING.has((err as NodeJS.ErrnoException).code ?? '');

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';
  private readonly sortedListings = new SortedListings(() => this.settledTimes());
  private rootIsLocal: boolean | undefined;
  private rootSettledTimes: SettledTimes | undefined;
  /** folders `delete` took away holding one small file, for `putVolatile` to reuse (spare-folders.ts) */
  private readonly spareFolders = new SpareFolders();
  /** what a storage path is appended to: the root, or nothing when the root is `/` */
  private readonly rootPrefix: string;

  constructor(
    private readonly root: string,
    private readonly context: DriverContext,
    /** the page-cache budget of this driver's uploads (`uploadcache`), undefined when it is `unlimited` */
    private readonly keptPages?: KeptPages,
  ) {
    this.rootPrefix = root === '/' ? '' : root.replace(/\/+$/, '');
  }

  async getContent(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      return await readFile(this.full(path), signal);
    } catch (err) {
      throw this.translate(err, path, 'EISDIR');
    }
  }

  /**
   * The file is written beside its place and renamed over it, so a reader sees the old content or the new,
   * never part of it. Folders the path needs are made the same way (see `putInNewFolder`): a folder appears
   * in its parent's listing only with the object in it, as a prefix appears on an object store. The
   * registry relies on it: a tag folder is listed only once its current link is there.
   */
  async putContent(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.put(path, content, true, signal);
  }

  /**
   * putContent without a single sync: the same temporary file or staged folder renamed into place, all of
   * it synchronous calls for a small object (no thread-pool round trip), so a crash may lose it, or leave it
   * empty, until `persist`.
   */
  async putVolatile(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.put(path, content, false, signal);
  }

  /**
   * The file's data, its folder and every folder above it up to the root, synced side by side: putVolatile may
   * have made any of those folders, and which ones is not recorded (another process may have written it).
   * Folder syncs are a group commit (fsync.ts), so uploads starting together share the ones above theirs.
   */
  async persist(path: string, signal?: AbortSignal): Promise<void> {
    const file = this.full(path);
    signal?.throwIfAborted();
    try {
      await Promise.all([syncFileAt(file), ...foldersFrom(dirname(file), this.root).map(syncDirectoryOf)]);
    } catch (err) {
      throw this.translate(err, path);
    }
  }

  private async put(path: string, content: Uint8Array, durable: boolean, signal?: AbortSignal): Promise<void> {
    const file = this.full(path);
    signal?.throwIfAborted();
    // Each round fails only because another writer made or removed a folder on the way meanwhile. The
    // folders are looked at first (a stat that makes no error object when they are missing): most puts make
    // a new folder (a blob's, a link's, a session's), where writing in place first failed twice on the way.
    for (let attempt = 0; attempt < MAX_FOLDER_ATTEMPTS; attempt++) {
      const missing = firstMissingFolder(dirname(file), this.root);
      if (missing === undefined) {
        if (await this.putInExistingFolder(file, content, durable, signal)) return;
      } else if ((!durable && this.putInSpareFolder(missing, file, content)) || (await this.putInNewFolder(missing, file, content, durable, signal))) return;
    }
    throw new Error(`putContent ${path}: the folders on its way kept changing while it wrote`);
  }

  /**
   * Side by side, then renamed in order (ordered-puts.ts). A folder on the way that another writer changes
   * meanwhile sends the objects not yet shown through `putContent`, one after the other.
   */
  async putContents(objects: readonly ObjectContent[], signal?: AbortSignal): Promise<void> {
    const files = objects.map(({ path, content }) => ({ file: this.full(path), content }));
    await putInOrder(files, this.root, (position) => this.putContent(objects[position]!.path, objects[position]!.content, signal), signal);
  }

  /** Writes `file` in its existing folder; false when the folder does not exist. */
  private async putInExistingFolder(file: string, content: Uint8Array, durable: boolean, signal?: AbortSignal): Promise<boolean> {
    // the same bytes again (a link pushed again): kept, with its times advanced (unchanged-content.ts)
    if (durable && (await touchIfUnchanged(file, content))) return true;
    return replaceFile(file, content, durable, signal);
  }

  /**
   * Writes `file` below the folder `missing`, which does not exist yet: the folders and the file are made in
   * a temporary sibling (`<missing>~<random>.tmp`, hidden from listings, on the same filesystem) and the
   * whole is renamed into place, so `missing` appears at once, holding the file. False when another writer
   * made `missing` meanwhile (the rename refuses a folder that is not empty; an empty one it replaces, which
   * loses nothing). The file and the staged folders are synced before the rename, the parent after it.
   */
  private async putInNewFolder(missing: string, file: string, content: Uint8Array, durable: boolean, signal?: AbortSignal): Promise<boolean> {
    const staging = temporaryPathOf(missing);
    // `file` is below `missing`
    const stagedFile = staging + file.slice(missing.length);
    try {
      // top down: a recursive mkdir tries the deepest folder first and fails its way up
      const stagedFolders = foldersFrom(dirname(stagedFile), staging);
      for (const folder of [...stagedFolders].reverse()) mkdirSync(folder);
      // The staged folders hold the file and each other: synced before the rename, so the folder that
      // appears is whole on disk too, not only in the journal's order; side by side with the file's own sync.
      // Their names are this put's own, so no other sync can join theirs: no group commit (fsync.ts).
      const syncStagedFolders = (): Promise<unknown> => Promise.all(stagedFolders.map(fsyncDirectory));
      // the staging folder was just made: only a concurrent removal (purging) makes it vanish
      const written = durable ? writeNewFileDurably(stagedFile, content, signal, syncStagedFolders) : writeNewFileUnsynced(stagedFile, content, signal);
      if (!(await written)) throw Object.assign(new Error(`${staging} vanished`), { code: 'ENOENT' });
      signal?.throwIfAborted();
      renameSync(staging, missing);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT') return false;
      throw err;
    }
    if (durable) await syncDirectory(missing);
    return true;
  }

  /**
   * putVolatile's `file` in the new folder `missing` (its only missing folder) made from a spare one of the
   * same place (spare-folders.ts): its one file overwritten in place while it is still hidden, then the folder
   * renamed in. No inode freed or allocated, no mkdir or create. False, with the spare removed, when there is
   * none or it cannot be used (purged meanwhile, or `missing` made by another writer): the caller makes the
   * folder anew.
   */
  private putInSpareFolder(missing: string, file: string, content: Uint8Array): boolean {
    if (content.length > SPARE_FILE_BYTES) return false;
    const parent = dirname(dirname(file));
    if (dirname(file) !== missing) {
      // a place's first put (a repository's first session, its `_uploads` made with it): no spare can be
      // there yet, but its folders are kept from now on
      this.spareFolders.ask(parent, basename(file));
      return false;
    }
    const spare = this.spareFolders.take(parent, basename(file));
    if (!spare) return false;
    try {
      const fd = openSync(`${spare.folder}/${basename(file)}`, 'r+');
      try {
        writeAllSync(fd, content);
        if (spare.fileSize !== content.length) ftruncateSync(fd, content.length);
        renameSync(spare.folder, missing);
        // upload purging may have removed the file while it was written (a spare older than its age): then
        // `missing` is an empty folder now, which the caller's next round writes the file into
        return fstatSync(fd).nlink > 0;
      } finally {
        closeSync(fd);
      }
    } catch {
      void rm(spare.folder, { recursive: true, force: true }).catch(() => undefined);
      return false;
    }
  }

  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const file = this.full(path);
    // Opened before the stream is returned, so a missing object fails here and a rename
    // that replaces the object later does not change what this reader sees.
    const handle = await open(file, 'r').catch((err: unknown) => {
      throw this.translate(err, path);
    });
    const info = await handle.stat();
    if (info.isDirectory()) {
      await handle.close();
      throw this.context.errors.pathNotFound(path);
    }
    if (offset >= info.size || signal?.aborted) {
      await handle.close();
      signal?.throwIfAborted();
      return Readable.from([]);
    }
    // Objects are never rewritten in place (see writer.ts), so the size read here is the object's size:
    // `end` keeps the stream from allocating a whole chunk for the last bytes and for an extra read at EOF.
    const stream = handle.createReadStream({ start: offset, end: info.size - 1, autoClose: true, highWaterMark: READ_CHUNK_SIZE });
    // Positional reads on the same handle, for a caller that copies with its own buffers (stowage's blob
    // GETs); the stream still owns the handle and closes it when destroyed. Where the page-cache budget is
    // kept, a large object's pages are asked for ahead of them (read-ahead.ts).
    const asksAhead = this.keptPages !== undefined && info.size - offset >= READ_AHEAD_FROM_SIZE;
    let ahead: ReadAhead | undefined;
    const readAt: ReadAt = async (buffer, length, position) => {
      if (asksAhead) (ahead ??= new ReadAhead(file, position, info.size)).reading(position, length);
      return (await handle.read(buffer, 0, length, position)).bytesRead;
    };
    // The client going away destroys the stream, which closes the file, whoever is reading it.
    if (signal) addAbortSignal(signal, stream);
    return Object.assign(stream, { [READ_AT]: readAt });
  }

  /** Creates nothing: the writer makes its folder and files at its first write (writer.ts). */
  async writer(path: string, append: boolean): Promise<FileWriter> {
    return openWriter(this.full(path), append, (size) => this.context.errors.invalidOffset(path, size), (destPath) => this.full(destPath), this.keptPages);
  }

  async uploadSize(path: string): Promise<number> {
    const size = await uploadSizeOf(this.full(path));
    if (size === undefined) throw this.context.errors.pathNotFound(path);
    return size;
  }

  /**
   * On a local filesystem a synchronous stat: an inode the kernel holds in memory, microseconds, where the
   * promise was a thread-pool round trip (an upload's session check and its blob's, two of a small push's
   * dozen), and an absent path costs no error object from node. On a network filesystem a stat may wait for
   * the server, so it goes to the thread pool there.
   */
  async stat(path: string): Promise<FileInfo> {
    const info = await this.statIfPresent(path);
    if (!info) throw this.context.errors.pathNotFound(path);
    return info;
  }

  /** `stat` with an absence answered as undefined (the registry's existence checks): no error built for it. */
  async statIfPresent(path: string): Promise<FileInfo | undefined> {
    const file = this.full(path);
    let info: Stats | undefined;
    try {
      info = this.onLocalFilesystem() ? statSync(file, { throwIfNoEntry: false }) : await stat(file);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.translate(err, path);
    }
    return info && { path, size: info.isDirectory() ? 0 : info.size, modTime: info.mtime, isDir: info.isDirectory() };
  }

  async uploadSizeIfPresent(path: string): Promise<number | undefined> {
    return uploadSizeOf(this.full(path));
  }

  /**
   * The file's device, inode, size and times, taken with one synchronous stat (no thread-pool round trip):
   * the same stamp later means the same content, since every write of this driver, distribution's in-place
   * rewrite and any other process's change give the path another inode or newer times. Undefined while the
   * times are too recent to tell a later change apart (settled-times.ts), for anything but a file, and on a
   * filesystem that may answer a stat from a cache (local-filesystem.ts).
   */
  contentStampSync(path: string): string | undefined {
    const settledTimes = this.settledTimes();
    if (!settledTimes) return undefined;
    const statedAt = Date.now();
    let info: BigIntStats | undefined;
    try {
      info = statSync(this.full(path), { bigint: true, throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!info?.isFile() || !settledTimes.settled(info, statedAt)) return undefined;
    return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  }

  /** whether the root is on a local filesystem, found out once (local-filesystem.ts) */
  private onLocalFilesystem(): boolean {
    this.rootIsLocal ??= onLocalFilesystem(this.root);
    return this.rootIsLocal === true;
  }

  /**
   * When the root's times tell a later change apart (settled-times.ts), from how its filesystem stamps
   * them, probed once (stamp-probe.ts); undefined where times cannot be trusted at all (not local, or the
   * root not made yet).
   */
  private settledTimes(): SettledTimes | undefined {
    if (!this.onLocalFilesystem()) return undefined;
    this.rootSettledTimes ??= SettledTimes.for(probeStamping(this.root));
    return this.rootSettledTimes;
  }

  async list(path: string): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.full(path));
    } catch (err) {
      if (path === '/' && isMissing(err)) return [];
      throw this.translate(err, path);
    }
    const prefix = path === '/' ? '' : path;
    // Names with `~` are partial or temporary files, which are not objects.
    return names.filter((name) => !name.includes('~')).map((name) => `${prefix}/${name}`);
  }

  /** From the folder's sorted listing, read again only when the folder changed (sorted-listings.ts). */
  async listAfter(path: string, after: string | undefined, limit: number): Promise<ListedPage> {
    let page: NamePage;
    try {
      page = await this.sortedListings.page(this.full(path), after, limit);
    } catch (err) {
      if (path === '/' && isMissing(err)) return { children: [], more: false };
      throw this.translate(err, path);
    }
    const prefix = path === '/' ? '/' : `${path}/`;
    return { children: page.names.map((name) => prefix + name), more: page.more };
  }

  /** Writes a large folder's listing file beside it (sorted-listings.ts `prepare`); nothing when the folder is missing. */
  async prepareListing(path: string): Promise<void> {
    try {
      await this.sortedListings.prepare(this.full(path));
    } catch (err) {
      if (isMissing(err)) return;
      throw this.translate(err, path);
    }
  }

  async move(sourcePath: string, destPath: string, signal?: AbortSignal): Promise<void> {
    const source = this.full(sourcePath);
    const dest = this.full(destPath);
    try {
      lstatSync(source);
    } catch (err) {
      throw this.translate(err, sourcePath);
    }
    await makeParentDirectories(dest);
    signal?.throwIfAborted();
    renameSync(source, dest);
    // the object is at its new name for good only once that name's folder is synced
    await syncDirectory(dest);
  }

  /**
   * A folder is renamed aside (`<folder>~<random>.tmp`, hidden from listings) before it is removed, so it
   * leaves its parent's listing at once, whole: a crash part-way never leaves a folder listed with part of
   * what it held (a tag folder without its current link). Upload purging removes what a crash left aside.
   */
  async delete(path: string): Promise<void> {
    const target = this.full(path);
    // A folder first: it is never an upload's object, so it has no partial file or claims beside it, and
    // looking for them reads its parent's whole listing (`_uploads`, on every finished push).
    let folder: Stats | undefined;
    try {
      const info = lstatSync(target, { throwIfNoEntry: false });
      if (info?.isDirectory()) folder = info;
    } catch {
      // not a folder on the way (ENOTDIR): looked at as an object below
    }
    if (folder) return this.deleteFolder(target, path, folder);
    const partial = partialPathOf(target);
    const hadPartial = await lstat(partial).then(
      () => true,
      () => false,
    );
    await rm(partial, { force: true });
    await removeClaims(target);
    let info;
    try {
      info = await lstat(target);
    } catch (err) {
      if (hadPartial && isMissing(err)) return;
      throw this.translate(err, path);
    }
    if (!info.isDirectory()) {
      await rm(target).catch((err: unknown) => {
        throw this.translate(err, path);
      });
      return;
    }
    await this.deleteFolder(target, path, info);
  }

  /**
   * `info`: the folder's stat, just read (a small one is listed synchronously: removeTree). A recent folder
   * holding one small file is kept aside as a spare instead (spare-folders.ts).
   */
  private async deleteFolder(target: string, path: string, info: Stats): Promise<void> {
    const aside = temporaryPathOf(target);
    try {
      renameSync(target, aside);
    } catch (err) {
      throw this.translate(err, path);
    }
    const local = this.onLocalFilesystem();
    if (local && info.size <= SMALL_FOLDER_BYTES && Date.now() - info.mtimeMs < SPARE_FRESH_MS) {
      const entries = await listForRemoval(aside, local, info.size);
      if (!entries) return;
      const spare = this.spareFolders.wants(dirname(target), entries[0]?.name ?? '') ? spareOf(aside, entries) : undefined;
      if (spare) return this.spareFolders.keep(dirname(target), entries[0]!.name, spare);
      return removeTree(aside, local, info.size, entries);
    }
    await removeTree(aside, local, info.size);
  }

  /** Removes the spare folders this driver kept (spare-folders.ts). */
  async close(): Promise<void> {
    await this.spareFolders.removeAll();
  }


  /** Temporary files of `putContent` calls a crash interrupted (see temporaries.ts). */
  async purgeTemporaries(olderThan: Date, dryRun: boolean, signal?: AbortSignal): Promise<string[]> {
    return purgeTemporaryFiles(this.root, olderThan, dryRun, signal);
  }

  private full(path: string): string {
    // A path of the storage grammar is appended to the root as it is: path.join normalised every path of every
    // call character by character, a sixth of the memory a small push allocated (docs/bench.md).
    if (PLAIN_PATH.test(path)) return this.rootPrefix + path;
    // The path grammar allows `.` and `..` as names; on a filesystem they would leave the root.
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) throw this.context.errors.invalidPath(path);
    return join(this.root, path);
  }

  private translate(err: unknown, path: string, ...alsoMissing: string[]): unknown {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return isMissing(err) || alsoMissing.includes(code) ? this.context.errors.pathNotFound(path) : err;
  }
}

/**
 * A folder whose entries fit in one block (ext4's 4 KiB; tmpfs, xfs and btrfs report less for a few names) is
 * listed with a synchronous call, and its small files unlinked the same way: microseconds in the kernel for
 * a handful of names (an upload session holds `startedat`, `data` and its claims), where each promise was a
 * thread-pool round trip, three per finished push. On a local filesystem only: elsewhere a listing may wait
 * for a server.
 */
const SMALL_FOLDER_BYTES = 4096;
/** Files up to this size are unlinked synchronously: freeing a large file's blocks takes longer (bytes). */
const SMALL_FILE_BYTES = 64 * 1024;
/** A folder is kept as a spare only when its one file is at most this size (bytes): one block, overwritten in place. */
const SPARE_FILE_BYTES = 4096;

/** `folder` as a spare when `entries` (its listing) is one regular file of at most SPARE_FILE_BYTES. */
function spareOf(folder: string, entries: Dirent[]): SpareFolder | undefined {
  if (entries.length !== 1 || !entries[0]!.isFile()) return undefined;
  const info = lstatSync(`${folder}/${entries[0]!.name}`, { throwIfNoEntry: false });
  return info?.isFile() && info.size <= SPARE_FILE_BYTES ? { folder, fileSize: info.size } : undefined;
}

/**
 * Removes a folder renamed aside, and everything in it. Files are unlinked side by side and the folder
 * removed after; `rm -r` would first try the folder, fail on it, then stat every entry. The folder's removal
 * goes to the thread pool, and so does the listing of a large folder and the unlinking of a large file: on
 * ext4 removing a folder waits for the journal commit of its last change (a directory's blocks are
 * journalled, and the freed inode's are written out first): as a synchronous call that held the event loop
 * for milliseconds (35 % of its time in a --cpu-prof of 16 small pushes in flight). `local`: the folder is on a
 * local filesystem; `size`: the folder's own size, when known.
 */
async function removeTree(folder: string, local: boolean, size?: number, listed?: Dirent[]): Promise<void> {
  const entries = listed ?? (await listForRemoval(folder, local, size));
  if (!entries) return;
  await Promise.all(entries.map((entry) => (entry.isDirectory() ? removeTree(join(folder, entry.name), local) : unlinkIfPresent(join(folder, entry.name), local))));
  await rmdir(folder).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return;
    // something was made in it meanwhile (a request that resolved its path before the rename)
    if (err.code === 'ENOTEMPTY' || err.code === 'EEXIST') return rm(folder, { recursive: true, force: true });
    throw err;
  });
}

/** The entries of a folder about to be removed; undefined when it is gone already. */
async function listForRemoval(folder: string, local: boolean, size?: number): Promise<Dirent[] | undefined> {
  try {
    if (local && (size ?? lstatSync(folder, { throwIfNoEntry: false })?.size ?? 0) <= SMALL_FOLDER_BYTES) return readdirSync(folder, { withFileTypes: true });
    return await readdir(folder, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function unlinkIfPresent(file: string, local: boolean): Promise<void> {
  try {
    if (local) {
      const info = lstatSync(file, { throwIfNoEntry: false });
      if (!info) return;
      if (info.size <= SMALL_FILE_BYTES) return unlinkSync(file);
    }
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
