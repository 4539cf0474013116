/**
 * The bookkeeping of a resumable writer that sends full parts as they fill (S3 multipart parts, Swift
 * segments): bytes short of a part wait in memory, `size` counts what earlier writers already sent,
 * and the writer's life (open, then closed, committed or cancelled) is checked in one place. Where
 * parts go, how the upload's state is saved and what commit and cancel do stay with the subclass.
 */
import type { FileWriter } from 'stowage';

/** Parts of one size before the size doubles. */
export const PARTS_PER_SIZE = 250;

/**
 * The size of the part after `count` full ones: `chunkSize` for the first 250, then doubling every 250
 * (up to 8x). Swift allows 1000 segments an object and its s3api 1000 parts an upload (AWS 10,000), so
 * 1000 parts hold 3750 x chunkSize (about 73 GiB at 20 MiB) while small blobs keep small parts.
 */
export const partSizeAfter = (count: number, chunkSize: number): number => chunkSize * 2 ** Math.min(Math.floor(count / PARTS_PER_SIZE), 3);

export abstract class PartedWriter implements FileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written: number;
  protected done: 'closed' | 'committed' | 'cancelled' | undefined;
  /** whether anything was written since the writer was opened (a status check writes nothing) */
  private dirty = false;

  /**
   * @param label names the writer in errors, e.g. `s3 writer for <key>`
   * @param sent bytes earlier writers already sent as parts
   * @param carried bytes that continue the content before anything new is written (a saved tail)
   */
  protected constructor(
    private readonly label: string,
    sent: number,
    carried: Buffer | undefined,
  ) {
    if (carried && carried.length > 0) {
      this.pending.push(carried);
      this.pendingBytes = carried.length;
    }
    this.written = sent + this.pendingBytes;
  }

  get size(): number {
    return this.written;
  }

  /** bytes written but not sent in a part yet */
  protected get pendingSize(): number {
    return this.pendingBytes;
  }

  /** the size the next part must have to be sent while writing */
  protected abstract nextPartSize(): number;
  /** sends one part: a full one while writing, a short last one on commit (or close, if the subclass wants) */
  protected abstract flushPart(data: Buffer): Promise<void>;
  /** keeps what a later writer needs to continue; close() calls it only when something was written */
  protected abstract save(): Promise<void>;
  abstract cancel(): Promise<void>;
  abstract commit(): Promise<void>;

  protected check(operation: string): void {
    if (this.done) throw new Error(`${this.label}: ${operation} after ${this.done}`);
  }

  /** Removes the first `bytes` pending bytes and returns them. */
  protected take(bytes: number): Buffer {
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const rest = all.subarray(bytes);
    // A copy, so what stays pending does not hold on to the whole concatenation.
    this.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    this.pendingBytes = rest.length;
    return all.subarray(0, bytes);
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.check('write');
    if (chunk.length === 0) return;
    this.dirty = true;
    // A copy: the caller may reuse its buffer once this promise resolves.
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    this.written += chunk.length;
    for (let size = this.nextPartSize(); this.pendingBytes >= size; size = this.nextPartSize()) await this.flushPart(this.take(size));
  }

  async close(): Promise<void> {
    if (this.done) {
      if (this.done === 'closed') throw new Error(`${this.label}: close after close`);
      return;
    }
    this.done = 'closed';
    // Nothing new: the saved state still describes the upload.
    if (!this.dirty) return;
    await this.save();
  }
}
