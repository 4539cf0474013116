/**
 * The inmemory driver: everything in process memory, lost on exit. For tests and trying stowage out;
 * it implements the contract exactly, which makes it the reference the conformance kit is checked on.
 *
 * Signals: every call does its work without awaiting anything, so there is no point in it to stop at (and
 * stowage does not start a call whose signal already aborted); only a reader's stream outlives its call,
 * and it is destroyed when the signal aborts.
 */
import { addAbortSignal, Readable } from 'node:stream';
import type { DriverContext, FileInfo, FileWriter, StorageDriver } from 'stowage';
import { type MemoryDirectory, type MemoryFile, find, newDirectory, parentOf } from './tree.js';

/** Content written but not committed, kept per path so a writer reopened in append mode continues it. */
interface PendingUpload {
  chunks: Buffer[];
  size: number;
}

export class InMemoryDriver implements StorageDriver {
  readonly name = 'inmemory';
  private readonly root: MemoryDirectory = newDirectory();
  private readonly pending = new Map<string, PendingUpload>();
  /** content stamps, given out on first ask: every write stores a new file object, never changed after */
  private readonly stamps = new WeakMap<MemoryFile, string>();
  private stampsGiven = 0;

  constructor(private readonly context: DriverContext) {}

  async getContent(path: string): Promise<Uint8Array> {
    return Buffer.concat(this.file(path).chunks as Buffer[]);
  }

  async putContent(path: string, content: Uint8Array): Promise<void> {
    this.store(path, [Buffer.from(content)], content.length);
  }

  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const { chunks } = this.file(path);
    const stream = Readable.from(sliceFrom(chunks, offset), { objectMode: false });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  async writer(path: string, append: boolean): Promise<FileWriter> {
    let upload = append ? this.pending.get(path) : undefined;
    if (!upload) {
      const committed = append ? this.findFile(path) : undefined;
      upload = { chunks: committed ? [...committed.chunks] : [], size: committed?.size ?? 0 };
      // a fresh writer replaces what was pending; an appending one is kept only once it is written to
      if (!append) this.pending.set(path, upload);
    }
    return new InMemoryWriter(upload, {
      written: (current) => {
        if (this.pending.get(path) !== current) this.pending.set(path, current);
      },
      commit: (done) => {
        this.store(path, done.chunks, done.size);
        if (this.pending.get(path) === done) this.pending.delete(path);
      },
      cancel: (done) => {
        if (this.pending.get(path) === done) this.pending.delete(path);
      },
      refuse: (size) => this.context.errors.invalidOffset(path, size),
      current: () => this.pending.get(path),
    });
  }

  async uploadSize(path: string): Promise<number> {
    const upload = this.pending.get(path);
    if (upload) return upload.size;
    return this.file(path).size;
  }

  async stat(path: string): Promise<FileInfo> {
    const node = find(this.root, path);
    if (!node) throw this.context.errors.pathNotFound(path);
    return { path, size: node.kind === 'file' ? node.size : 0, modTime: node.modTime, isDir: node.kind === 'dir' };
  }

  async list(path: string): Promise<string[]> {
    const node = find(this.root, path);
    if (!node || node.kind !== 'dir') throw this.context.errors.pathNotFound(path);
    const prefix = path === '/' ? '' : path;
    return [...node.children.keys()].map((name) => `${prefix}/${name}`);
  }

  /** The stored file object's own number: the same number is the same object, whose content never changes. */
  contentStampSync(path: string): string | undefined {
    const file = this.findFile(path);
    if (!file) return undefined;
    let stamp = this.stamps.get(file);
    if (stamp === undefined) {
      stamp = String(++this.stampsGiven);
      this.stamps.set(file, stamp);
    }
    return stamp;
  }

  async move(sourcePath: string, destPath: string): Promise<void> {
    const node = find(this.root, sourcePath);
    if (!node) throw this.context.errors.pathNotFound(sourcePath);
    if (destPath.startsWith(`${sourcePath}/`)) throw new Error(`cannot move ${sourcePath} below itself to ${destPath}`);
    if (destPath === sourcePath) return;
    const target = parentOf(this.root, destPath);
    if (target.parent.children.get(target.name)?.kind === 'dir') throw new Error(`destination ${destPath} is a directory`);
    const source = parentOf(this.root, sourcePath);
    source.parent.children.delete(source.name);
    target.parent.children.set(target.name, node);
  }

  async delete(path: string): Promise<void> {
    const hadPending = this.dropPendingBelow(path);
    if (!find(this.root, path)) {
      if (hadPending) return;
      throw this.context.errors.pathNotFound(path);
    }
    const { parent, name } = parentOf(this.root, path);
    parent.children.delete(name);
  }

  private store(path: string, chunks: readonly Buffer[], size: number): void {
    const { parent, name } = parentOf(this.root, path);
    if (parent.children.get(name)?.kind === 'dir') throw new Error(`${path} is a directory`);
    const file: MemoryFile = { kind: 'file', chunks, size, modTime: new Date() };
    parent.children.set(name, file);
  }

  private findFile(path: string): MemoryFile | undefined {
    const node = find(this.root, path);
    return node?.kind === 'file' ? node : undefined;
  }

  private file(path: string): MemoryFile {
    const file = this.findFile(path);
    if (!file) throw this.context.errors.pathNotFound(path);
    return file;
  }

  private dropPendingBelow(path: string): boolean {
    let dropped = false;
    for (const key of this.pending.keys()) {
      if (key === path || key.startsWith(`${path}/`)) {
        this.pending.delete(key);
        dropped = true;
      }
    }
    return dropped;
  }
}

function* sliceFrom(chunks: readonly Buffer[], offset: number): Generator<Buffer> {
  let skip = offset;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    yield skip > 0 ? chunk.subarray(skip) : chunk;
    skip = 0;
  }
}

interface WriterEnd {
  /** the upload was written to: from now on an appending writer continues it */
  written(upload: PendingUpload): void;
  commit(upload: PendingUpload): void;
  cancel(upload: PendingUpload): void;
  /** the error for a writer another writer of the same upload overtook */
  refuse(size: number): Error;
  /** the upload an appending writer now continues at this path, if any */
  current(): PendingUpload | undefined;
}

class InMemoryWriter implements FileWriter {
  private state: 'open' | 'closed' | 'committed' | 'cancelled' | 'refused' = 'open';
  /** the upload's size as this writer left it: if it is not, another writer appended meanwhile */
  private expected: number;

  constructor(
    private readonly upload: PendingUpload,
    private readonly end: WriterEnd,
  ) {
    this.expected = upload.size;
  }

  get size(): number {
    return this.expected;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.mustBeOpen('write');
    // A copy: the caller may reuse its buffer once write() resolves.
    if (chunk.length === 0) return;
    this.mustNotBeOvertaken();
    this.upload.chunks.push(Buffer.from(chunk));
    this.upload.size += chunk.length;
    this.expected = this.upload.size;
    this.end.written(this.upload);
  }

  /** Two writers opened at one size: the first to write continues, the other is refused (INVALID_OFFSET). */
  private mustNotBeOvertaken(): void {
    // An appending writer that found no upload starts one of its own: if another writer's upload is there
    // now, that one wrote first (two writers opened on a fresh path at size 0).
    const current = this.end.current();
    if (this.upload.size === this.expected && (current === undefined || current === this.upload)) return;
    this.state = 'refused';
    throw this.end.refuse(this.expected);
  }

  async close(): Promise<void> {
    if (this.state === 'open') this.state = 'closed';
  }

  async cancel(): Promise<void> {
    this.mustBeOpen('cancel');
    this.state = 'cancelled';
    this.end.cancel(this.upload);
  }

  async commit(): Promise<void> {
    this.mustBeOpen('commit');
    this.mustNotBeOvertaken();
    this.state = 'committed';
    this.end.commit(this.upload);
  }

  private mustBeOpen(operation: string): void {
    if (this.state !== 'open') throw new Error(`${operation} on a writer that is already ${this.state}`);
  }
}
