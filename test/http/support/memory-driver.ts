/**
 * A small in-memory StorageDriver for the API tests, until (and besides) the inmemory plugin: objects
 * become visible only on commit, writers append to uncommitted content, and every call can be counted.
 */
import { Readable } from 'node:stream';
import type { FileInfo, FileWriter, StorageDriver } from '../../../src/storage/driver.js';
import { driverErrors } from '../../../src/storage/errors.js';

const errors = driverErrors('test-memory');

export class MemoryDriver implements StorageDriver {
  readonly name = 'test-memory';
  readonly objects = new Map<string, { content: Buffer; modTime: Date }>();
  /** content written but not committed, by path */
  readonly pending = new Map<string, Buffer>();
  /** set to make redirectURL answer */
  redirectBase?: string;

  async getContent(path: string): Promise<Uint8Array> {
    const object = this.objects.get(path);
    if (!object) throw errors.pathNotFound(path);
    return new Uint8Array(object.content);
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    this.objects.set(path, { content: Buffer.from(content), modTime: new Date() });
  }

  async reader(path: string, offset: number): Promise<Readable> {
    const object = this.objects.get(path);
    if (!object) throw errors.pathNotFound(path);
    if (offset > object.content.length) throw errors.invalidOffset(path, offset);
    const rest = object.content.subarray(offset);
    // several chunks, so range reads and early stops are exercised
    const chunks: Buffer[] = [];
    for (let i = 0; i < rest.length; i += 64 * 1024) chunks.push(rest.subarray(i, i + 64 * 1024));
    return Readable.from(chunks);
  }

  async uploadSize(path: string): Promise<number> {
    const content = this.pending.get(path) ?? this.objects.get(path)?.content;
    if (!content) throw errors.pathNotFound(path);
    return content.length;
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    let content: Buffer;
    if (append) {
      const pending = this.pending.get(path) ?? this.objects.get(path)?.content;
      if (!pending) throw errors.pathNotFound(path);
      content = pending;
    } else {
      content = Buffer.alloc(0);
    }
    const parts: Buffer[] = [content];
    let size = content.length;
    this.pending.set(path, content);
    const flush = (): void => {
      this.pending.set(path, Buffer.concat(parts));
    };
    return {
      get size() {
        return size;
      },
      write: async (chunk: Uint8Array) => {
        parts.push(Buffer.from(chunk));
        size += chunk.length;
      },
      close: async () => {
        if (this.pending.has(path)) flush();
      },
      cancel: async () => {
        this.pending.delete(path);
      },
      commit: async () => {
        flush();
        this.objects.set(path, { content: this.pending.get(path) as Buffer, modTime: new Date() });
        this.pending.delete(path);
      },
    };
  }

  async stat(path: string): Promise<FileInfo> {
    const object = this.objects.get(path);
    if (object) return { path, size: object.content.length, modTime: object.modTime, isDir: false };
    if (path === '/' || this.childrenOf(path).length > 0) return { path, size: 0, modTime: new Date(), isDir: true };
    throw errors.pathNotFound(path);
  }

  async list(path: string): Promise<string[]> {
    const children = this.childrenOf(path);
    if (children.length === 0 && path !== '/') throw errors.pathNotFound(path);
    return children;
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    const object = this.objects.get(sourcePath);
    if (!object) throw errors.pathNotFound(sourcePath);
    this.objects.set(destPath, object);
    this.objects.delete(sourcePath);
  }

  async delete(path: string): Promise<void> {
    let found = false;
    for (const store of [this.objects, this.pending] as Map<string, unknown>[]) {
      for (const key of [...store.keys()]) {
        if (key === path || key.startsWith(`${path}/`)) {
          store.delete(key);
          found = true;
        }
      }
    }
    if (!found) throw errors.pathNotFound(path);
  }

  async redirectURL(path: string): Promise<string | undefined> {
    return this.redirectBase ? `${this.redirectBase}${path}` : undefined;
  }

  /** committed paths only, as a driver lists them */
  private childrenOf(path: string): string[] {
    const prefix = path === '/' ? '/' : `${path}/`;
    const children = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const next = key.slice(prefix.length).split('/')[0];
      if (next) children.add(prefix + next);
    }
    return [...children];
  }
}
