/**
 * The StorageDriver over one Swift container. Layout, as distribution's swift driver:
 * `<prefix>/files<path>` holds committed content, `<prefix>/segments/...` the SLO segments; stowage
 * adds `<prefix>/pending<path>`, the state of uploads not yet committed.
 */
import { Readable } from 'node:stream';
import type { DriverContext, FileInfo, FileWriter, RedirectOptions, StorageDriver, WalkFn, WalkOptions } from 'stowage';
import { partSizeAfter, rangedReader, walkTree } from '@stowage/backend-kit';
import type { SwiftClient } from './client.js';
import type { ResolvedSwiftOptions } from './options.js';
import type { SwiftStore } from './store.js';
import { tempUrl } from './tempurl.js';
import { discardPending, newSegmentPrefix, readPendingState, SwiftFileWriter, type PendingState } from './writer.js';

export interface TempUrlSettings {
  readonly key: string;
  readonly methods: readonly string[];
}

export class SwiftDriver implements StorageDriver {
  readonly name = 'swift';
  private readonly base: string;

  constructor(
    private readonly client: SwiftClient,
    private readonly store: SwiftStore,
    private readonly options: ResolvedSwiftOptions,
    private readonly context: DriverContext,
    private readonly tempUrlSettings?: TempUrlSettings,
  ) {
    this.base = options.prefix ? `${options.prefix}/` : '';
  }

  private files(path: string): string {
    return path === '/' ? `${this.base}files` : `${this.base}files${path}`;
  }

  private pending(path: string): string {
    return `${this.base}pending${path}`;
  }

  private get segmentRoot(): string {
    return `${this.base}segments`;
  }

  async getContent(path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const body = await this.store.get(this.files(path), signal);
    if (!body) throw this.context.errors.pathNotFound(path);
    return body;
  }

  async putContent(path: string, content: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.store.put(this.files(path), content, {}, signal);
  }

  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const name = this.files(path);
    return rangedReader({
      backend: 'swift',
      context: this.context,
      path,
      offset,
      policy: { retries: this.options.retries, delayMs: this.options.retryDelayMs },
      open: (from) =>
        this.client.open(
          { method: 'GET', path: this.store.objectPath(name), headers: from > 0 ? { range: `bytes=${from}-` } : {}, accept: [404, 416], signal },
          `read ${path}`,
        ),
      size: async () => (await this.store.head(name))?.size,
    });
  }

  /** The signal covers the reads that open the writer; its writes go on as the writer's own calls. */
  async writer(path: string, append: boolean, signal?: AbortSignal): Promise<FileWriter> {
    const names = { object: this.files(path), pending: this.pending(path), segmentRoot: this.segmentRoot };
    // a writer another writer overtook (both opened at one size, the other wrote first) is refused as at a wrong offset
    const refuse = (size: number): Error => this.context.errors.invalidOffset(path, size);
    const state = await readPendingState(this.store, names.pending, signal);
    if (!append) {
      if (state) await discardPending(this.store, names.pending, state);
      return new SwiftFileWriter(this.store, names, this.options.chunkSize, undefined, undefined, refuse);
    }
    if (state) {
      // A short last segment is read back and rewritten with what follows, so chunked uploads made of
      // many small PATCHes still end up as few, full segments.
      const last = state.segments[state.segments.length - 1];
      if (last && last.size < partSizeAfter(state.segments.length - 1, this.options.chunkSize) && state.segments.length > state.borrowed) {
        const data = await this.store.get(last.name);
        if (data && data.length === last.size) {
          const shortened: PendingState = { ...state, segments: state.segments.slice(0, -1) };
          return new SwiftFileWriter(this.store, names, this.options.chunkSize, shortened, { data, replaces: last.name }, refuse);
        }
      }
      return new SwiftFileWriter(this.store, names, this.options.chunkSize, state, undefined, refuse);
    }
    const committed = await this.store.head(names.object, signal);
    if (!committed) return new SwiftFileWriter(this.store, names, this.options.chunkSize, undefined, undefined, refuse);
    if (committed.slo) {
      const segments = (await this.store.manifestSegments(names.object)) ?? [];
      const borrowedState: PendingState = { version: 1, segmentPrefix: newSegmentPrefix(this.segmentRoot), next: 1, segments, borrowed: segments.length };
      return new SwiftFileWriter(this.store, names, this.options.chunkSize, borrowedState, undefined, refuse);
    }
    const data = await this.store.get(names.object);
    return new SwiftFileWriter(this.store, names, this.options.chunkSize, undefined, { data: data ?? Buffer.alloc(0) }, refuse);
  }

  /**
   * From the saved upload state alone: its segments hold every byte (a close saves the tail as a short
   * segment), so a status read opens no writer and writes nothing. Without an upload, the committed
   * object's size is what an appending writer would start from.
   */
  async uploadSize(path: string, signal?: AbortSignal): Promise<number> {
    const state = await readPendingState(this.store, this.pending(path), signal);
    if (state) return state.segments.reduce((sum, segment) => sum + segment.size, 0);
    const committed = await this.store.head(this.files(path), signal);
    if (!committed) throw this.context.errors.pathNotFound(path);
    return committed.size;
  }

  async stat(path: string, signal?: AbortSignal): Promise<FileInfo> {
    if (path !== '/') {
      const info = await this.store.head(this.files(path), signal);
      if (info) return { path, size: info.size, modTime: info.modTime, isDir: false };
      if (!(await this.store.exists(this.files(path) + '/', signal))) throw this.context.errors.pathNotFound(path);
    }
    return { path, size: 0, modTime: new Date(), isDir: true };
  }

  async list(path: string, signal?: AbortSignal): Promise<string[]> {
    const prefix = this.files(path) + '/';
    const base = this.files('/');
    const children: string[] = [];
    for await (const entry of this.store.list(prefix, '/', signal)) {
      const name = entry.subdir ?? entry.name;
      if (name) children.push(name.slice(base.length).replace(/\/$/, ''));
    }
    if (children.length === 0 && path !== '/') throw this.context.errors.pathNotFound(path);
    return children;
  }

  /** Children with their sizes and times, from the listing alone. */
  private async listInfos(path: string, signal?: AbortSignal): Promise<FileInfo[]> {
    const base = this.files('/');
    const now = new Date();
    const infos: FileInfo[] = [];
    for await (const entry of this.store.list(this.files(path) + '/', '/', signal)) {
      if (entry.subdir) infos.push({ path: entry.subdir.slice(base.length).replace(/\/$/, ''), size: 0, modTime: now, isDir: true });
      else if (entry.name) {
        const modTime = entry.last_modified ? new Date(`${entry.last_modified}Z`) : now;
        infos.push({ path: entry.name.slice(base.length), size: entry.bytes ?? 0, modTime, isDir: false });
      }
    }
    if (infos.length === 0 && path !== '/') throw this.context.errors.pathNotFound(path);
    return infos;
  }

  async walk(path: string, fn: WalkFn, options?: WalkOptions, signal?: AbortSignal): Promise<void> {
    await walkTree(path, (directory) => this.listInfos(directory, signal), fn, options);
  }

  async move(sourcePath: string, destPath: string, signal?: AbortSignal): Promise<void> {
    // A file cannot also be the directory of its new place, as on a filesystem.
    if (destPath.startsWith(`${sourcePath}/`)) throw this.context.errors.invalidPath(destPath);
    const source = this.files(sourcePath);
    const destination = this.files(destPath);
    const info = await this.store.head(source, signal);
    if (!info) throw this.context.errors.pathNotFound(sourcePath);
    const previous = await this.store.head(destination, signal);
    const replaced = previous?.slo ? ((await this.store.manifestSegments(destination, signal)) ?? []) : [];
    const moved = info.slo && replaced.length > 0 ? new Set(((await this.store.manifestSegments(source, signal)) ?? []).map((s) => s.name)) : new Set<string>();
    await this.store.copy(source, destination, info.slo, signal);
    // Once the copy is in place, the tidying runs to its end: an abort now would leave both names holding the object.
    await this.store.deleteOne(source);
    await this.store.deleteMany(replaced.map((s) => s.name).filter((name) => !moved.has(name)));
  }

  async delete(path: string, signal?: AbortSignal): Promise<void> {
    const object = this.files(path);
    const objects: string[] = [];
    const segments: string[] = [];
    const collect = async (name: string, slo: boolean): Promise<void> => {
      objects.push(name);
      if (slo) for (const s of (await this.store.manifestSegments(name, signal)) ?? []) segments.push(s.name);
    };
    const single = await this.store.head(object, signal);
    if (single) await collect(object, single.slo);
    for await (const entry of this.store.list(object + '/', undefined, signal)) if (entry.name) await collect(entry.name, entry.slo_etag !== undefined);

    const pendingStates: string[] = [];
    const pendingObject = this.pending(path);
    const claims: string[] = [];
    for await (const entry of this.store.list(pendingObject, undefined, signal)) {
      if (entry.name && (entry.name === pendingObject || entry.name.startsWith(pendingObject + '/'))) pendingStates.push(entry.name);
      else if (entry.name?.startsWith(`${pendingObject}~claim.`)) claims.push(entry.name);
    }
    if (objects.length === 0 && pendingStates.length === 0) throw this.context.errors.pathNotFound(path);
    // Up to here only reads: an abort stops the delete before it removed anything; from here it runs to its end,
    // so no visible object is left referring to deleted segments.
    signal?.throwIfAborted();

    // Visible objects go first, so nothing visible ever refers to a deleted segment.
    await this.store.deleteMany(objects);
    for (const name of pendingStates) {
      const state = await readPendingState(this.store, name).catch(() => undefined);
      if (state) await discardPending(this.store, name, state);
      else await this.store.deleteOne(name);
    }
    await this.store.deleteMany([...new Set(segments)]);
    await this.store.deleteMany(claims);
  }

  async redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
    const settings = this.tempUrlSettings;
    if (!settings) return undefined;
    // Swift accepts a HEAD on a URL signed for GET.
    if (!settings.methods.includes('GET')) return undefined;
    const session = await this.client.currentSession();
    return tempUrl({
      storageUrl: session.storageUrl,
      objectPath: this.store.qualified(this.files(path)),
      method: 'GET',
      key: settings.key,
      expires: Math.floor(Date.now() / 1000) + (options.expiresIn ?? 20 * 60),
      accessKey: this.options.accessKey,
      tenantId: session.tenantId,
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
