/**
 * The resumable writer on S3 multipart uploads. Full parts of `chunksize` bytes go to the multipart
 * upload as they fill; what is left when the writer closes (S3 refuses parts under 5 MiB but the last)
 * goes to a side object `<key>~upload`, together with the upload id and the number of parts that
 * count, so any process can continue the upload. `~` cannot occur in a stowage path, so the side
 * object never collides with content and listings leave it out. Nothing is visible at the key before
 * CompleteMultipartUpload (or the single PUT of a small object) on commit.
 */
import type { FileWriter } from 'stowage';
import type { Part, S3Store } from './store.js';

export const UPLOAD_SUFFIX = '~upload';

/**
 * The size of the part after `count` full ones: `chunksize` for the first 250, then doubling every 250
 * (up to 8x), so the 1000 parts Swift's s3api allows hold 3750 x chunksize, and AWS's 10,000 far more.
 */
export const partSizeAfter = (count: number, chunkSize: number): number => chunkSize * 2 ** Math.min(Math.floor(count / 250), 3);

export interface UploadState {
  readonly uploadId?: string;
  readonly parts: readonly Part[];
  readonly tail: Buffer;
}

/** The upload in progress at `key`, or undefined (a side object whose upload is gone counts as none). */
export async function readUploadState(store: S3Store, key: string): Promise<UploadState | undefined> {
  const info = await store.head(key + UPLOAD_SUFFIX);
  if (!info) return undefined;
  const tail = (await store.get(key + UPLOAD_SUFFIX)) ?? Buffer.alloc(0);
  const uploadId = info.metadata['upload-id'] || undefined;
  const counted = Number(info.metadata['parts'] ?? 0);
  if (!uploadId) return { parts: [], tail };
  const parts = await store.listParts(key, uploadId);
  if (!parts) return undefined;
  // Parts after the recorded count were uploaded by a writer that never closed: they do not count.
  return { uploadId, parts: parts.filter((p) => p.number <= counted), tail };
}

export async function discardUpload(store: S3Store, key: string, state: UploadState | undefined): Promise<void> {
  if (state?.uploadId) await store.abortMultipart(key, state.uploadId);
  await store.deleteOne(key + UPLOAD_SUFFIX);
}

export class S3FileWriter implements FileWriter {
  private buffered: Buffer[];
  private bufferedBytes: number;
  private uploadId?: string;
  private parts: Part[];
  private written: number;
  private done: 'closed' | 'committed' | 'cancelled' | undefined;
  /** whether anything was written since the writer was opened (a status check writes nothing) */
  private dirty = false;

  constructor(
    private readonly store: S3Store,
    private readonly key: string,
    private readonly chunkSize: number,
    state: UploadState | undefined,
  ) {
    this.uploadId = state?.uploadId;
    this.parts = [...(state?.parts ?? [])];
    this.buffered = state && state.tail.length > 0 ? [state.tail] : [];
    this.bufferedBytes = state?.tail.length ?? 0;
    this.written = this.parts.reduce((sum, p) => sum + p.size, 0) + this.bufferedBytes;
  }

  get size(): number {
    return this.written;
  }

  private check(operation: string): void {
    if (this.done) throw new Error(`s3 writer for ${this.key}: ${operation} after ${this.done}`);
  }

  private take(bytes: number): Buffer {
    const all = Buffer.concat(this.buffered, this.bufferedBytes);
    const rest = all.subarray(bytes);
    this.buffered = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.bufferedBytes = rest.length;
    return all.subarray(0, bytes);
  }

  private nextPartSize(): number {
    return partSizeAfter(this.parts.length, this.chunkSize);
  }

  private async flushPart(data: Buffer): Promise<void> {
    this.uploadId ??= await this.store.createMultipart(this.key);
    const number = (this.parts[this.parts.length - 1]?.number ?? 0) + 1;
    this.parts.push(await this.store.uploadPart(this.key, this.uploadId, number, data));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check('write');
    if (chunk.length === 0) return;
    this.dirty = true;
    this.buffered.push(Buffer.from(chunk));
    this.bufferedBytes += chunk.length;
    this.written += chunk.length;
    for (let size = this.nextPartSize(); this.bufferedBytes >= size; size = this.nextPartSize()) await this.flushPart(this.take(size));
  }

  async close(): Promise<void> {
    if (this.done) {
      if (this.done === 'closed') throw new Error(`s3 writer for ${this.key}: close after close`);
      return;
    }
    this.done = 'closed';
    // Nothing new: the side object still describes the upload.
    if (!this.dirty) return;
    const metadata: Record<string, string> = { parts: String(this.parts.length), size: String(this.written) };
    if (this.uploadId) metadata['upload-id'] = this.uploadId;
    await this.store.put(this.key + UPLOAD_SUFFIX, this.take(this.bufferedBytes), metadata);
  }

  async cancel(): Promise<void> {
    this.check('cancel');
    this.done = 'cancelled';
    await discardUpload(this.store, this.key, { uploadId: this.uploadId, parts: this.parts, tail: Buffer.alloc(0) });
  }

  async commit(): Promise<void> {
    this.check('commit');
    if (!this.uploadId) {
      await this.store.put(this.key, this.take(this.bufferedBytes));
    } else {
      if (this.bufferedBytes > 0) await this.flushPart(this.take(this.bufferedBytes));
      await this.store.completeMultipart(this.key, this.uploadId, this.parts);
    }
    this.done = 'committed';
    await this.store.deleteOne(this.key + UPLOAD_SUFFIX);
  }
}
