/**
 * The filesystem driver: objects are files under `rootdirectory`, directories are directories,
 * exactly as distribution lays them out, so a tree written by `registry:2` is served unchanged.
 */
import { readFile as readFileCallback, stat as statCallback } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { DriverContext, FileInfo, FileWriter, ReadAt, StorageDriver } from 'stowage';
import { syncDirectory } from './fsync.js';
import { purgeTemporaryFiles, temporaryPathOf } from './temporaries.js';
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
const isMissing = (err: unknown): boolean => MISSING.has((err as NodeJS.ErrnoException).code ?? '');

export class FilesystemDriver implements StorageDriver {
  readonly name = 'filesystem';

  constructor(
    private readonly root: string,
    private readonly context: DriverContext,
  ) {}

  async getContent(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    try {
      return await readFile(this.full(path), signal);
    } catch (err) {
      throw this.translate(err, path, 'EISDIR');
    }
  }

  async putContent(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void> {
    const file = this.full(path);
    signal?.throwIfAborted();
    await mkdir(dirname(file), { recursive: true });
    const temp = temporaryPathOf(file);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(content, { signal });
        await handle.sync();
      } finally {
        await handle.close();
      }
      // the last moment to stop: after the rename the new content is in place
      signal?.throwIfAborted();
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    await syncDirectory(file);
  }

  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    // Opened before the stream is returned, so a missing object fails here and a rename
    // that replaces the object later does not change what this reader sees.
    const handle = await open(this.full(path), 'r').catch((err: unknown) => {
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
    // GETs); the stream still owns the handle and closes it when destroyed.
    const readAt: ReadAt = async (buffer, length, position) => (await handle.read(buffer, 0, length, position)).bytesRead;
    // The client going away destroys the stream, which closes the file, whoever is reading it.
    if (signal) addAbortSignal(signal, stream);
    return Object.assign(stream, { [READ_AT]: readAt });
  }

  /** Creates nothing: the writer makes its folder and files at its first write (writer.ts). */
  async writer(path: string, append: boolean): Promise<FileWriter> {
    return openWriter(this.full(path), append, (size) => this.context.errors.invalidOffset(path, size));
  }

  async uploadSize(path: string): Promise<number> {
    const size = await uploadSizeOf(this.full(path));
    if (size === undefined) throw this.context.errors.pathNotFound(path);
    return size;
  }

  async stat(path: string): Promise<FileInfo> {
    try {
      const info = await stat(this.full(path));
      return { path, size: info.isDirectory() ? 0 : info.size, modTime: info.mtime, isDir: info.isDirectory() };
    } catch (err) {
      throw this.translate(err, path);
    }
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

  async move(sourcePath: string, destPath: string, signal?: AbortSignal): Promise<void> {
    const source = this.full(sourcePath);
    const dest = this.full(destPath);
    try {
      await lstat(source);
    } catch (err) {
      throw this.translate(err, sourcePath);
    }
    await mkdir(dirname(dest), { recursive: true });
    signal?.throwIfAborted();
    await rename(source, dest);
  }

  async delete(path: string): Promise<void> {
    const target = this.full(path);
    const partial = partialPathOf(target);
    const hadPartial = await lstat(partial).then(
      () => true,
      () => false,
    );
    await rm(partial, { force: true });
    await removeClaims(target);
    try {
      await lstat(target);
    } catch (err) {
      if (hadPartial && isMissing(err)) return;
      throw this.translate(err, path);
    }
    await rm(target, { recursive: true });
  }

  /** Temporary files of `putContent` calls a crash interrupted (see temporaries.ts). */
  async purgeTemporaries(olderThan: Date, dryRun: boolean, signal?: AbortSignal): Promise<string[]> {
    return purgeTemporaryFiles(this.root, olderThan, dryRun, signal);
  }

  private full(path: string): string {
    // The path grammar allows `.` and `..` as names; on a filesystem they would leave the root.
    if (path.split('/').some((segment) => segment === '.' || segment === '..')) throw this.context.errors.invalidPath(path);
    return join(this.root, path);
  }

  private translate(err: unknown, path: string, ...alsoMissing: string[]): unknown {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return isMissing(err) || alsoMissing.includes(code) ? this.context.errors.pathNotFound(path) : err;
  }
}
