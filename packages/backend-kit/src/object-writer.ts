/**
 * A resumable writer over multipart uploads. Whole parts go to the service as soon as they fill; less
 * than a part stays in memory (never more than one part). On close the writer saves its state next to
 * the object, as `<key>~upload` (JSON: upload id, part size, part ETags and sizes) and `<key>~tail` (the
 * bytes short of a part), so a writer reopened later, in this process or another, continues where it
 * stopped. `~` cannot occur in a stowage path, so these sidecars never collide with content and the
 * driver hides them from listings. Content too small for one part is committed with a single PUT.
 */
import type { FileWriter } from 'stowage';
import { type ObjectStore, storageFailed } from './object-store.js';
import { partSizeAfter } from './parted-writer.js';

export interface SavedUpload {
  readonly uploadId?: string;
  readonly partSize?: number;
  readonly parts: readonly { readonly etag: string; readonly size: number }[];
  readonly tail: number;
}

export const uploadStateKey = (key: string): string => `${key}~upload`;
export const uploadTailKey = (key: string): string => `${key}~tail`;

/** The saved state of the upload at `key` (without its tail's bytes), or undefined when none is saved. */
export async function loadSavedUploadState(store: ObjectStore, key: string): Promise<SavedUpload | undefined> {
  const raw = await store.get(uploadStateKey(key));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as SavedUpload;
  } catch (err) {
    throw storageFailed(`the saved upload state of ${key} is not JSON`, err);
  }
}

/** The bytes a saved upload holds: its parts and its tail. */
export const savedUploadSize = (state: SavedUpload): number => state.parts.reduce((sum, part) => sum + part.size, 0) + state.tail;

export async function loadSavedUpload(store: ObjectStore, key: string): Promise<{ state: SavedUpload; tail: Buffer } | undefined> {
  const state = await loadSavedUploadState(store, key);
  if (!state) return undefined;
  let tail: Buffer = Buffer.alloc(0);
  if (state.tail > 0) {
    const stored = await store.get(uploadTailKey(key));
    if (!stored || stored.length !== state.tail) throw storageFailed(`the saved tail of the upload of ${key} is missing or truncated`);
    tail = stored;
  }
  return { state, tail };
}

/** Aborts the multipart upload a saved state names and removes the sidecars. */
export async function discardSavedUpload(store: ObjectStore, key: string, state?: SavedUpload): Promise<void> {
  const saved = state ?? (await loadSavedUpload(store, key).catch(() => undefined))?.state;
  if (saved?.uploadId) await store.abortMultipart(key, saved.uploadId).catch(() => undefined);
  await store.deleteKeys([uploadStateKey(key), uploadTailKey(key)]);
}

export class ObjectWriter implements FileWriter {
  private uploadId: string | undefined;
  private partSize: number;
  private readonly parts: { etag: string; size: number }[];
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private savedTail: number;
  /** every byte this writer holds, uploaded or pending; stays put through close and commit */
  private written: number;
  private done: 'open' | 'closed' | 'committed' | 'cancelled' = 'open';
  /** whether this writer was given any byte: one that was not leaves the saved state as it found it */
  private dirty = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly key: string,
    saved?: { state: SavedUpload; tail: Buffer },
  ) {
    this.uploadId = saved?.state.uploadId;
    this.partSize = saved?.state.partSize ?? store.partSizeHint;
    this.parts = [...(saved?.state.parts ?? [])];
    this.savedTail = saved?.state.tail ?? 0;
    if (saved && saved.tail.length > 0) {
      this.pending.push(saved.tail);
      this.pendingSize = saved.tail.length;
    }
    this.written = this.parts.reduce((sum, part) => sum + part.size, 0) + this.pendingSize;
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.assertOpen();
    if (chunk.length === 0) return;
    this.dirty = true;
    // Copy: the caller may reuse its buffer once this promise resolves.
    this.pending.push(Buffer.from(chunk));
    this.pendingSize += chunk.length;
    this.written += chunk.length;
    while (this.pendingSize >= this.nextPartSize()) {
      if (!this.uploadId) {
        const upload = await this.store.initMultipart(this.key);
        this.uploadId = upload.uploadId;
        this.partSize = upload.partSize;
        if (this.pendingSize < this.nextPartSize()) break;
      }
      await this.uploadPart(this.takePending(this.nextPartSize()));
    }
  }

  private nextPartSize(): number {
    return this.store.growingParts ? partSizeAfter(this.parts.length, this.partSize) : this.partSize;
  }

  async close(): Promise<void> {
    if (this.done !== 'open') return;
    this.done = 'closed';
    // Nothing written, nothing to save: a close must never rewrite a state another writer may have moved on.
    if (!this.dirty) return;
    const tail = this.takePending(this.pendingSize);
    if (tail.length > 0) await this.store.put(uploadTailKey(this.key), tail);
    const state: SavedUpload = { uploadId: this.uploadId, partSize: this.partSize, parts: this.parts, tail: tail.length };
    await this.store.put(uploadStateKey(this.key), Buffer.from(JSON.stringify(state)));
    if (tail.length === 0 && this.savedTail > 0) await this.store.deleteKeys([uploadTailKey(this.key)]);
  }

  async cancel(): Promise<void> {
    this.assertOpen();
    this.done = 'cancelled';
    this.pending = [];
    this.pendingSize = 0;
    this.written = 0;
    if (this.uploadId) await this.store.abortMultipart(this.key, this.uploadId).catch(() => undefined);
    await this.store.deleteKeys([uploadStateKey(this.key), uploadTailKey(this.key)]);
  }

  async commit(): Promise<void> {
    this.assertOpen();
    if (!this.uploadId) {
      await this.store.put(this.key, this.takePending(this.pendingSize));
    } else {
      if (this.pendingSize > 0 || this.parts.length === 0) await this.uploadPart(this.takePending(this.pendingSize));
      await this.store.completeMultipart(this.key, this.uploadId, this.parts.map((part) => part.etag), this.written);
    }
    this.done = 'committed';
    await this.store.deleteKeys([uploadStateKey(this.key), uploadTailKey(this.key)]);
  }

  private async uploadPart(data: Buffer): Promise<void> {
    const etag = await this.store.uploadPart(this.key, this.uploadId!, this.parts.length, data);
    this.parts.push({ etag, size: data.length });
  }

  /** Removes the first `size` pending bytes and returns them as one buffer. */
  private takePending(size: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    const taken = all.subarray(0, size);
    const rest = all.subarray(size);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingSize = rest.length;
    return taken;
  }

  private assertOpen(): void {
    if (this.done !== 'open') throw storageFailed(`the writer for ${this.key} is already ${this.done}`);
  }
}
