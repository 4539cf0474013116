/**
 * The storage driver contract over an ObjectStore: paths become keys under the root directory,
 * directories are key prefixes found by delimiter listings, writers are resumable multipart uploads
 * (object-writer.ts), move is a service copy (or a streamed one for large objects) plus delete.
 * Every call runs in the scope of its signal (signal-scope.ts), so the backend requests it makes are
 * aborted with it.
 */
import { Readable } from 'node:stream';
import type { DriverErrorFactory, DriverLogger, FileInfo, FileWriter, RedirectOptions, StorageDriver, WalkFn, WalkOptions } from 'stowage';
import { keysUnder, type ObjectStore } from './object-store.js';
import { discardSavedUpload, loadSavedUpload, loadSavedUploadState, ObjectWriter, savedUploadSize, type SavedUpload } from './object-writer.js';
import { resumableReader } from './resumable-reader.js';
import { passSignalsToRequests, withoutSignal } from './signal-scope.js';
import { BackendError } from './retry.js';
import { walkTree } from './walk.js';

export interface ObjectDriverOptions {
  readonly name: string;
  readonly store: ObjectStore;
  /** key prefix without leading or trailing `/`; '' for the bucket's root */
  readonly rootDirectory: string;
  readonly errors: DriverErrorFactory;
  readonly logger: DriverLogger;
  /** seconds a redirect URL stays valid when the caller does not say */
  readonly redirectExpiry?: number;
  /** answer redirectURL at all */
  readonly redirects?: boolean;
}

const LIST_PAGE = 1000;
const DELETE_BATCH = 1000;

/** Sidecar objects (`~` never occurs in a stowage path) are not content. */
const isHidden = (name: string): boolean => name.includes('~');

export class ObjectDriver implements StorageDriver {
  readonly name: string;
  private readonly store: ObjectStore;
  private readonly root: string;

  constructor(private readonly options: ObjectDriverOptions) {
    this.name = options.name;
    this.store = options.store;
    this.root = options.rootDirectory.replace(/^\/+|\/+$/g, '');
    // The driver the plugin gets is this one seen through the signal scope: every contract call (and
    // every call of its writers) hands its signal to the HTTP requests made for it.
    return passSignalsToRequests(this);
  }

  /** `/a/b` -> `<root>/a/b` */
  private key(path: string): string {
    const relative = path.replace(/^\/+/, '');
    return this.root ? (relative ? `${this.root}/${relative}` : this.root) : relative;
  }

  /** the prefix of a directory's children */
  private dirPrefix(path: string): string {
    const key = this.key(path);
    return key ? `${key}/` : '';
  }

  private pathOf(key: string): string {
    return `/${this.root ? key.slice(this.root.length + 1) : key}`;
  }

  async getContent(path: string): Promise<Uint8Array> {
    const body = await this.store.get(this.key(path));
    if (!body) throw this.options.errors.pathNotFound(path);
    return body;
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    await this.store.put(this.key(path), Buffer.from(content.buffer, content.byteOffset, content.byteLength));
  }

  /** A connection dropped mid-body is picked up again from the byte it got to, on the same version of the object. */
  async reader(path: string, offset: number): Promise<Readable> {
    const key = this.key(path);
    const result = await this.store.getFrom(key, offset);
    if (result === 'not-found') throw this.options.errors.pathNotFound(path);
    if (result === 'unsatisfiable') {
      const head = await this.store.head(key);
      if (!head) throw this.options.errors.pathNotFound(path);
      if (offset === head.size) return Readable.from([]);
      throw this.options.errors.invalidOffset(path, offset);
    }
    return resumableReader({
      backend: this.name,
      logger: this.options.logger,
      path,
      policy: this.store.readRetries,
      offset,
      length: result.length,
      etag: result.etag,
      first: result.body,
      reopen: async (position) => {
        const again = await this.store.getFrom(key, position);
        if (typeof again === 'string') throw new BackendError(`read ${path}: the object changed or vanished while it was being read (${again})`);
        return { body: again.body, etag: again.etag };
      },
    });
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const key = this.key(path);
    // A writer that another one overtook (both opened at one size, the other wrote first) is refused as at a wrong offset.
    const options = { refuse: (size: number) => this.options.errors.invalidOffset(path, size) };
    if (!append) {
      await discardSavedUpload(this.store, key);
      return new ObjectWriter(this.store, key, undefined, options);
    }
    const saved = await loadSavedUpload(this.store, key);
    if (saved) return new ObjectWriter(this.store, key, saved, options);
    // Appending to committed content: it becomes the start of a new upload (streamed, one part in memory).
    const writer = new ObjectWriter(this.store, key, undefined, options);
    const committed = await this.store.getFrom(key, 0);
    if (typeof committed === 'string') return writer;
    try {
      for await (const chunk of committed.body) await writer.write(chunk as Buffer);
    } catch (err) {
      committed.body.destroy();
      await writer.cancel().catch(() => undefined);
      throw err;
    }
    return writer;
  }

  /** Read from the saved state alone (not the tail's bytes): a status read opens no writer and writes nothing. */
  async uploadSize(path: string): Promise<number> {
    const key = this.key(path);
    const state = await loadSavedUploadState(this.store, key);
    if (state) return savedUploadSize(state);
    const head = await this.store.head(key);
    if (!head) throw this.options.errors.pathNotFound(path);
    return head.size;
  }

  async stat(path: string): Promise<FileInfo> {
    if (path !== '/') {
      const head = await this.store.head(this.key(path));
      if (head) return { path, size: head.size, modTime: head.modified, isDir: false };
    }
    const child = await this.firstVisibleChild(this.dirPrefix(path));
    if (child === undefined) throw this.options.errors.pathNotFound(path);
    return { path, size: 0, modTime: child, isDir: true };
  }

  /** the modification time of some visible entry under the prefix (now, for a sub-directory), if any */
  private async firstVisibleChild(prefix: string): Promise<Date | undefined> {
    let marker: string | undefined;
    do {
      const page = await this.store.list(prefix, '/', marker, LIST_PAGE);
      const object = page.objects.find((o) => !isHidden(o.key.slice(prefix.length)));
      if (object) return object.modified;
      if (page.prefixes.some((p) => !isHidden(p.slice(prefix.length)))) return new Date();
      marker = page.nextMarker;
    } while (marker);
    return undefined;
  }

  async list(path: string): Promise<string[]> {
    const prefix = this.dirPrefix(path);
    const children = new Set<string>();
    let marker: string | undefined;
    do {
      const page = await this.store.list(prefix, '/', marker, LIST_PAGE);
      for (const object of page.objects) {
        const name = object.key.slice(prefix.length);
        if (name && !isHidden(name)) children.add(this.pathOf(object.key));
      }
      for (const common of page.prefixes) {
        const name = common.slice(prefix.length, -1);
        if (name && !isHidden(name)) children.add(this.pathOf(common.slice(0, -1)));
      }
      marker = page.nextMarker;
    } while (marker);
    if (children.size === 0 && path !== '/') throw this.options.errors.pathNotFound(path);
    return [...children];
  }

  /** The kit's walk (walk.ts) over one delimiter listing per directory: sizes and times come from the listing, no HEAD per file. */
  async walk(path: string, fn: WalkFn, options: WalkOptions = {}): Promise<void> {
    await walkTree(path, (directory) => this.listDirectory(directory), fn, options);
  }

  /** A directory's visible children with sizes and times; PATH_NOT_FOUND when it has none. */
  private async listDirectory(path: string): Promise<FileInfo[]> {
    const prefix = this.dirPrefix(path);
    const entries: FileInfo[] = [];
    // A prefix has no time of its own; like stat, a directory reads as current.
    const listedAt = new Date();
    let marker: string | undefined;
    do {
      const page = await this.store.list(prefix, '/', marker, LIST_PAGE);
      for (const object of page.objects) {
        const name = object.key.slice(prefix.length);
        if (name && !isHidden(name)) entries.push({ path: this.pathOf(object.key), size: object.size, modTime: object.modified, isDir: false });
      }
      for (const common of page.prefixes) {
        const name = common.slice(prefix.length, -1);
        if (name && !isHidden(name)) entries.push({ path: this.pathOf(common.slice(0, -1)), size: 0, modTime: listedAt, isDir: true });
      }
      marker = page.nextMarker;
    } while (marker);
    if (entries.length === 0 && path !== '/') throw this.options.errors.pathNotFound(path);
    return entries;
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    // An object cannot hold itself: in a tree, a file has no children to move it to.
    if (destPath.startsWith(`${sourcePath}/`)) throw this.options.errors.invalidPath(destPath);
    const source = this.key(sourcePath);
    const dest = this.key(destPath);
    const head = await this.store.head(source);
    if (!head) throw this.options.errors.pathNotFound(sourcePath);
    if (this.store.copy && head.size <= this.store.serverCopyLimit) {
      await this.store.copy(source, dest, head.size);
      // A copy that shares the source's parts (a Swift SLO copied as its manifest) made them the
      // destination's: the source goes alone. Once the copy is in place the move runs to its end, so
      // an abort never leaves two names sharing those parts.
      await withoutSignal(() => this.store.deleteKeys([source]));
    } else {
      await this.streamCopy(source, dest);
      await withoutSignal(() => this.deleteContent([source]));
    }
  }

  /** Copies through this process, one part in memory at a time. */
  private async streamCopy(source: string, dest: string): Promise<void> {
    const input = await this.store.getFrom(source, 0);
    if (typeof input === 'string') throw this.options.errors.pathNotFound(this.pathOf(source));
    const writer = new ObjectWriter(this.store, dest);
    try {
      for await (const chunk of input.body) await writer.write(chunk as Buffer);
      await writer.commit();
    } catch (err) {
      input.body.destroy();
      await writer.cancel().catch(() => undefined);
      throw err;
    }
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const keys: string[] = [];
    if (path !== '/' && (await this.store.head(key))) keys.push(key);
    const prefixes = path === '/' ? [this.dirPrefix(path)] : [`${key}/`, `${key}~`];
    for (const prefix of prefixes) keys.push(...(await keysUnder(this.store, prefix)));
    const sidecars = keys.filter((k) => isHidden(this.pathOf(k)));
    const visible = keys.filter((k) => !isHidden(this.pathOf(k)));
    await this.discardUploads(sidecars);
    // Only sidecars (an upload never committed) or nothing: nothing visible was there.
    if (visible.length === 0) throw this.options.errors.pathNotFound(path);
    // Content may be a manifest over parts of its own (Swift SLO): those go with it.
    for (let at = 0; at < visible.length; at += DELETE_BATCH) await this.deleteContent(visible.slice(at, at + DELETE_BATCH));
  }

  /** Deletes content objects, with their parts where the store keeps parts as objects of their own (Swift SLO segments). */
  private deleteContent(keys: readonly string[]): Promise<void> {
    return this.store.deleteContent ? this.store.deleteContent(keys) : this.store.deleteKeys(keys);
  }

  /** Aborts the multipart uploads that saved writer state names, so none is left billing, then drops the sidecars. */
  private async discardUploads(sidecars: readonly string[]): Promise<void> {
    for (const stateKey of sidecars.filter((k) => k.endsWith('~upload'))) {
      const raw = await this.store.get(stateKey).catch(() => undefined);
      if (!raw) continue;
      try {
        const state = JSON.parse(raw.toString('utf8')) as SavedUpload;
        if (state.uploadId) await this.store.abortMultipart(stateKey.slice(0, -'~upload'.length), state.uploadId).catch(() => undefined);
      } catch {
        this.options.logger.warn({ key: stateKey }, 'unreadable upload state ignored while deleting');
      }
    }
    for (let at = 0; at < sidecars.length; at += DELETE_BATCH) await this.store.deleteKeys(sidecars.slice(at, at + DELETE_BATCH));
  }

  async redirectURL(path: string, options: RedirectOptions): Promise<string | undefined> {
    if (this.options.redirects === false) return undefined;
    return await this.store.presign(this.key(path), options.method, options.expiresIn ?? this.options.redirectExpiry ?? 1200);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
