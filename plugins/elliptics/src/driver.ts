/**
 * The Elliptics storage driver: stowage paths stored as Elliptics keys (the path itself, in the configured
 * namespace), uploads staged under `upload:<path>` until commit, directory listings kept in journals (see
 * listing.ts). Objects are stored as they are, empty ones included: no `EMPTY` placeholder.
 */
import { Readable } from 'node:stream';
import type { DriverErrorFactory, DriverLogger, FileInfo, FileWriter, StorageDriver } from 'stowage';
import { DirectoryIndex, childPath } from './listing.js';
import { ObjectStore, rechunk, systemClock } from './objects.js';
import type { EllipticsClient, ReplicaInfo } from './protocol/client.js';
import { keyId } from './protocol/ids.js';

const toDate = (mtime: { tsec: number; tnsec: number }): Date => new Date(mtime.tsec * 1000 + Math.floor(mtime.tnsec / 1e6));

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
  }

  private id(key: string): Buffer {
    return keyId(key, this.namespace);
  }

  private async replicaOf(path: string): Promise<ReplicaInfo> {
    const replica = await this.client.newest(this.id(path));
    if (!replica) throw this.errors.pathNotFound(path);
    return replica;
  }

  async getContent(path: string): Promise<Uint8Array> {
    return this.objects.readAll(this.id(path), await this.replicaOf(path));
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    await this.objects.write(this.id(path), content.length, [content]);
    await this.index.added(path);
  }

  async reader(path: string, offset: number): Promise<Readable> {
    const replica = await this.replicaOf(path);
    if (offset > replica.size) throw this.errors.invalidOffset(path, offset);
    return Readable.from(this.objects.chunks(this.id(path), replica, offset), { objectMode: false });
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    const stagingId = this.id(`upload:${path}`);
    let size = 0;
    if (append) {
      const staged = await this.client.newest(stagingId);
      if (staged) {
        size = staged.size;
      } else {
        // Appending to committed content continues from it, as a file system would.
        const committed = await this.client.newest(this.id(path));
        if (committed && committed.size > 0) {
          await this.objects.write(stagingId, committed.size, this.objects.chunks(this.id(path), committed));
          size = committed.size;
        }
      }
    } else {
      await this.client.removeQuorum(stagingId);
    }
    return new EllipticsWriter(this, path, stagingId, size, this.objects.chunkSize);
  }

  async uploadSize(path: string): Promise<number> {
    const staged = await this.client.newest(this.id(`upload:${path}`));
    if (staged) return staged.size;
    const committed = await this.client.newest(this.id(path));
    if (committed) return committed.size;
    throw this.errors.pathNotFound(path);
  }

  async stat(path: string): Promise<FileInfo> {
    if (path !== '/') {
      const replica = await this.client.newest(this.id(path));
      if (replica) return { path, size: replica.size, modTime: toDate(replica.mtime), isDir: false };
    }
    const dir = await this.client.newest(this.id(`dir:${path}`));
    if (path === '/' || (dir && (await this.index.children(path)).length > 0)) {
      return { path, size: 0, modTime: dir ? toDate(dir.mtime) : new Date(0), isDir: true };
    }
    throw this.errors.pathNotFound(path);
  }

  async list(path: string): Promise<string[]> {
    const names = await this.index.children(path);
    if (names.length === 0 && path !== '/') throw this.errors.pathNotFound(path);
    return names.map((name) => childPath(path, name));
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    // An object cannot become a directory holding itself (a file system refuses the same).
    if (destPath.startsWith(`${sourcePath}/`)) throw this.errors.invalidPath(destPath);
    const sourceId = this.id(sourcePath);
    const replica = await this.replicaOf(sourcePath);
    // Elliptics has no server-side copy: the bytes stream through, chunk by chunk.
    await this.objects.write(this.id(destPath), replica.size, this.objects.chunks(sourceId, replica));
    await this.index.added(destPath);
    await this.client.removeQuorum(sourceId);
    await this.index.removed(sourcePath);
  }

  async delete(path: string): Promise<void> {
    const found = await this.deleteTree(path);
    if (!found) throw this.errors.pathNotFound(path);
    await this.index.removed(path);
  }

  async close(): Promise<void> {
    await this.client.close();
    this.onClose?.();
  }

  /** Removes the object at `path` and everything listed below it; false when there was nothing. */
  private async deleteTree(path: string): Promise<boolean> {
    const children = await this.index.children(path);
    for (const name of children) await this.deleteTree(childPath(path, name));
    if (children.length > 0) await this.index.drop(path);
    const removedObject = await this.client.removeQuorum(this.id(path));
    return removedObject || children.length > 0;
  }

  // ---- used by the writer

  /** @internal */
  async stage(stagingId: Buffer, offset: number, data: Buffer): Promise<void> {
    // A plain WRITE at an offset keeps old[0:offset] and replaces the rest: repeating it is harmless.
    await this.client.writeQuorum(stagingId, { ioFlags: 0, offset, num: 0, ...systemClock.now() }, data);
  }

  /** @internal */
  async publish(path: string, stagingId: Buffer, size: number): Promise<void> {
    const source = size === 0 ? [] : this.objects.chunks(stagingId, await this.stagedReplica(stagingId, path, size));
    await this.objects.write(this.id(path), size, source);
    await this.index.added(path);
    await this.client.removeQuorum(stagingId);
  }

  /** @internal */
  async discard(stagingId: Buffer): Promise<void> {
    await this.client.removeQuorum(stagingId);
  }

  private async stagedReplica(stagingId: Buffer, path: string, size: number): Promise<ReplicaInfo> {
    const replica = await this.client.newest(stagingId);
    if (!replica || replica.size < size) {
      throw new Error(`elliptics: the upload staged for ${path} holds ${replica?.size ?? 0} of ${size} bytes`);
    }
    return { ...replica, size };
  }
}

/** Buffers up to one chunk, stages full chunks at their offsets, and copies the staged object on commit. */
class EllipticsWriter implements FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushed: number;
  private state: 'open' | 'closed' | 'committed' | 'cancelled' = 'open';

  constructor(
    private readonly driver: EllipticsDriver,
    private readonly path: string,
    private readonly stagingId: Buffer,
    size: number,
    private readonly chunkSize: number,
  ) {
    this.flushed = size;
  }

  get size(): number {
    return this.flushed + this.pendingBytes;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen('write');
    // The caller may reuse its chunk once this resolves, so keep a copy.
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.chunkSize) await this.flush();
  }

  async close(): Promise<void> {
    if (this.state === 'open') await this.flush();
    if (this.state === 'open') this.state = 'closed';
  }

  async cancel(): Promise<void> {
    this.assertOpen('cancel');
    this.state = 'cancelled';
    this.pending = [];
    this.pendingBytes = 0;
    await this.driver.discard(this.stagingId);
  }

  async commit(): Promise<void> {
    this.assertOpen('commit');
    await this.flush();
    await this.driver.publish(this.path, this.stagingId, this.flushed);
    this.state = 'committed';
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for await (const piece of rechunk(pending, this.chunkSize)) {
      await this.driver.stage(this.stagingId, this.flushed, piece);
      this.flushed += piece.length;
    }
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new Error(`elliptics writer for ${this.path}: ${operation} after ${this.state}`);
  }
}
