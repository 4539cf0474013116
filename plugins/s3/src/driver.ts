/**
 * The StorageDriver over one S3 bucket, keys laid out as distribution's s3 driver lays them out:
 * `<rootdirectory><path>` without the leading `/`.
 */
import { Readable } from 'node:stream';
import type { DriverContext, FileInfo, FileWriter, RedirectOptions, StorageDriverV1, WalkFn, WalkOptions } from 'stowage';
import { rangedReader, walkTree } from '@stowage/backend-kit';
import type { S3Client } from './client.js';
import type { ResolvedS3Options } from './options.js';
import type { Part, S3Store } from './store.js';
import { discardUpload, readUploadState, S3FileWriter, UPLOAD_SUFFIX, type UploadState } from './writer.js';

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export class S3Driver implements StorageDriverV1 {
  readonly name = 's3';

  constructor(
    private readonly client: S3Client,
    private readonly store: S3Store,
    private readonly options: ResolvedS3Options,
    private readonly context: DriverContext,
  ) {}

  private key(path: string): string {
    const root = this.options.rootDirectory;
    if (path === '/') return root;
    return root ? root + path : path.slice(1);
  }

  private directoryPrefix(path: string): string {
    const key = this.key(path);
    return key === '' ? '' : key + '/';
  }

  private fromKey(key: string): string {
    const root = this.options.rootDirectory;
    return root ? key.slice(root.length) : '/' + key;
  }

  async getContent(path: string): Promise<Uint8Array> {
    const body = await this.store.get(this.key(path));
    if (!body) throw this.context.errors.pathNotFound(path);
    return body;
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    await this.store.put(this.key(path), content);
  }

  async reader(path: string, offset: number): Promise<Readable> {
    const key = this.key(path);
    return rangedReader({
      backend: 'S3',
      context: this.context,
      path,
      offset,
      policy: { retries: this.options.retries, delayMs: this.options.retryDelayMs },
      open: (from) => this.client.open({ method: 'GET', key, headers: from > 0 ? { range: `bytes=${from}-` } : {}, accept: [404, 416] }, `read ${path}`),
      size: async () => (await this.store.head(key))?.size,
    });
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const key = this.key(path);
    const state = await readUploadState(this.store, key);
    if (!append) {
      if (state) await discardUpload(this.store, key, state);
      return new S3FileWriter(this.store, key, this.options.chunkSize, undefined);
    }
    if (state) return new S3FileWriter(this.store, key, this.options.chunkSize, state);
    const committed = await this.store.head(key);
    if (!committed) return new S3FileWriter(this.store, key, this.options.chunkSize, undefined);
    return new S3FileWriter(this.store, key, this.options.chunkSize, await this.continueCommitted(key, committed.size));
  }

  /** Appending to committed content: whole chunks are copied server-side, the rest is read back. */
  private async continueCommitted(key: string, size: number): Promise<UploadState> {
    const chunk = this.options.chunkSize;
    const fullParts = Math.floor(size / chunk);
    let uploadId: string | undefined;
    const parts: Part[] = [];
    if (fullParts > 0) {
      const id = await this.store.createMultipart(key);
      uploadId = id;
      const copied = await inParallel(
        this.options.copyConcurrency,
        Array.from({ length: fullParts }, (_, i) => () => this.store.uploadPartCopy(key, id, i + 1, key, i * chunk, (i + 1) * chunk)),
      );
      parts.push(...copied);
    }
    let tail: Buffer = Buffer.alloc(0);
    if (size > fullParts * chunk) {
      const response = await this.client.request({ method: 'GET', key, headers: { range: `bytes=${fullParts * chunk}-` } }, `read ${key}`);
      tail = response.body;
    }
    return { uploadId, parts, tail };
  }

  async stat(path: string): Promise<FileInfo> {
    if (path !== '/') {
      const info = await this.store.head(this.key(path));
      if (info) return { path, size: info.size, modTime: info.modTime, isDir: false };
      const page = await this.store.listPage(this.directoryPrefix(path), undefined, undefined, 1);
      if (page.keys.length === 0) throw this.context.errors.pathNotFound(path);
    }
    return { path, size: 0, modTime: new Date(), isDir: true };
  }

  async list(path: string): Promise<string[]> {
    const children: string[] = [];
    for await (const entry of this.store.list(this.directoryPrefix(path), '/')) {
      const name = entry.prefix ?? entry.key!;
      if (name.includes('~')) continue;
      children.push(this.fromKey(name.replace(/\/$/, '')));
    }
    if (children.length === 0 && path !== '/') throw this.context.errors.pathNotFound(path);
    return children;
  }

  /** Children with their sizes and times, from the listing alone (upload side objects left out). */
  private async listInfos(path: string): Promise<FileInfo[]> {
    const now = new Date();
    const infos: FileInfo[] = [];
    for await (const entry of this.store.list(this.directoryPrefix(path), '/')) {
      const name = entry.prefix ?? entry.key!;
      if (name.includes('~')) continue;
      if (entry.prefix) infos.push({ path: this.fromKey(name.replace(/\/$/, '')), size: 0, modTime: now, isDir: true });
      else infos.push({ path: this.fromKey(name), size: entry.size ?? 0, modTime: entry.modified ? new Date(entry.modified) : now, isDir: false });
    }
    if (infos.length === 0 && path !== '/') throw this.context.errors.pathNotFound(path);
    return infos;
  }

  async walk(path: string, fn: WalkFn, options?: WalkOptions): Promise<void> {
    await walkTree(path, (directory) => this.listInfos(directory), fn, options);
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    // A file cannot also be the directory of its new place, as on a filesystem.
    if (destPath.startsWith(`${sourcePath}/`)) throw this.context.errors.invalidPath(destPath);
    const source = this.key(sourcePath);
    const destination = this.key(destPath);
    const info = await this.store.head(source);
    if (!info) throw this.context.errors.pathNotFound(sourcePath);
    if (info.size <= this.options.copyThreshold) {
      await this.store.copyObject(source, destination);
    } else {
      const chunk = this.options.copyChunkSize;
      const uploadId = await this.store.createMultipart(destination);
      try {
        const count = Math.ceil(info.size / chunk);
        const parts = await inParallel(
          this.options.copyConcurrency,
          Array.from({ length: count }, (_, i) => () => this.store.uploadPartCopy(destination, uploadId, i + 1, source, i * chunk, Math.min((i + 1) * chunk, info.size))),
        );
        await this.store.completeMultipart(destination, uploadId, parts);
      } catch (err) {
        await this.store.abortMultipart(destination, uploadId).catch(() => undefined);
        throw err;
      }
    }
    await this.store.deleteOne(source);
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const keys: string[] = [];
    for await (const entry of this.store.list(key + '/')) if (entry.key) keys.push(entry.key);
    if (await this.store.head(key)) keys.push(key);
    if (await this.store.head(key + UPLOAD_SUFFIX)) keys.push(key + UPLOAD_SUFFIX);
    if (keys.length === 0) throw this.context.errors.pathNotFound(path);
    for (const side of keys.filter((k) => k.endsWith(UPLOAD_SUFFIX))) {
      const target = side.slice(0, -UPLOAD_SUFFIX.length);
      const state = await readUploadState(this.store, target).catch(() => undefined);
      if (state?.uploadId) await this.store.abortMultipart(target, state.uploadId);
    }
    await this.store.deleteMany(keys);
  }

  async redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
    return this.client.presign(options.method, this.key(path), options.expiresIn ?? 20 * 60);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
