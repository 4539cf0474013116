/**
 * The resumable writer on S3 multipart uploads. Full parts of `chunksize` bytes go to the multipart
 * upload as they fill; what is left when the writer closes (S3 refuses parts under 5 MiB but the last)
 * goes to a side object `<key>~upload`, together with the upload id and the number of parts that
 * count, so any process can continue the upload. `~` cannot occur in a stowage path, so the side
 * object never collides with content and listings leave it out. Nothing is visible at the key before
 * CompleteMultipartUpload (or the single PUT of a small object) on commit.
 */
import { PartedWriter, partSizeAfter } from '@stowage/backend-kit';
import type { Part, S3Store } from './store.js';

export const UPLOAD_SUFFIX = '~upload';

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

export class S3FileWriter extends PartedWriter {
  private uploadId?: string;
  private parts: Part[];

  constructor(
    private readonly store: S3Store,
    private readonly key: string,
    private readonly chunkSize: number,
    state: UploadState | undefined,
  ) {
    const parts = [...(state?.parts ?? [])];
    super(`s3 writer for ${key}`, parts.reduce((sum, p) => sum + p.size, 0), state?.tail);
    this.uploadId = state?.uploadId;
    this.parts = parts;
  }

  protected nextPartSize(): number {
    return partSizeAfter(this.parts.length, this.chunkSize);
  }

  protected async flushPart(data: Buffer): Promise<void> {
    this.uploadId ??= await this.store.createMultipart(this.key);
    const number = (this.parts[this.parts.length - 1]?.number ?? 0) + 1;
    this.parts.push(await this.store.uploadPart(this.key, this.uploadId, number, data));
  }

  /** The tail (S3 refuses short parts but the last) goes to the side object, with what counts of the upload. */
  protected async save(): Promise<void> {
    const metadata: Record<string, string> = { parts: String(this.parts.length), size: String(this.size) };
    if (this.uploadId) metadata['upload-id'] = this.uploadId;
    await this.store.put(this.key + UPLOAD_SUFFIX, this.take(this.pendingSize), metadata);
  }

  async cancel(): Promise<void> {
    this.check('cancel');
    this.done = 'cancelled';
    await discardUpload(this.store, this.key, { uploadId: this.uploadId, parts: this.parts, tail: Buffer.alloc(0) });
  }

  async commit(): Promise<void> {
    this.check('commit');
    if (!this.uploadId) {
      await this.store.put(this.key, this.take(this.pendingSize));
    } else {
      if (this.pendingSize > 0) await this.flushPart(this.take(this.pendingSize));
      await this.store.completeMultipart(this.key, this.uploadId, this.parts);
    }
    this.done = 'committed';
    await this.store.deleteOne(this.key + UPLOAD_SUFFIX);
  }
}
