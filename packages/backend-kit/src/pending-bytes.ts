/**
 * The bytes an object writer holds short of a part, in one buffer about a part's size. Each chunk is copied in
 * once (its caller may reuse it), a full part leaves as the buffer itself, and once the service has it the
 * buffer comes back for the next part. Keeping the chunks and concatenating them copied every byte twice and
 * left two parts' worth of buffers to the collector for each part uploaded.
 */
const EMPTY = Buffer.alloc(0);

export class PendingBytes {
  private buffer: Buffer = EMPTY;
  private filled = 0;
  /** the whole buffer the last part taken is a view of, until it is given back or another is taken */
  private lent: Buffer | undefined;
  /** a buffer given back, for the next one needed */
  private spare: Buffer | undefined;

  /** how many bytes are held */
  get size(): number {
    return this.filled;
  }

  /** Copies `chunk` in after the bytes held; a buffer made for it holds at least `partSize` bytes. */
  append(chunk: Uint8Array, partSize: number): void {
    const needed = this.filled + chunk.length;
    if (needed > this.buffer.length) this.moveTo(this.bufferOf(Math.max(needed, partSize)));
    this.buffer.set(chunk, this.filled);
    this.filled = needed;
  }

  /** Removes the first `size` bytes (at most `size`) and returns them: no copy, the rest (less than a part) copied out. */
  take(size: number): Buffer {
    const taken = this.buffer.subarray(0, Math.min(size, this.filled));
    const rest = this.buffer.subarray(taken.length, this.filled);
    this.lent = this.buffer === EMPTY ? undefined : this.buffer;
    this.buffer = rest.length > 0 ? Buffer.from(rest) : EMPTY;
    this.filled = rest.length;
    return taken;
  }

  /** Says the last part taken is no longer read by anyone (the service answered its upload): its buffer is reused. */
  giveBack(): void {
    this.spare = this.lent;
    this.lent = undefined;
  }

  /** Puts bytes taken back in front of those held (a part whose upload failed stays the writer's). */
  putBack(bytes: Buffer): void {
    const joined = Buffer.allocUnsafe(bytes.length + this.filled);
    bytes.copy(joined, 0);
    this.buffer.copy(joined, bytes.length, 0, this.filled);
    this.buffer = joined;
    this.filled = joined.length;
  }

  clear(): void {
    this.buffer = EMPTY;
    this.filled = 0;
    this.lent = undefined;
    this.spare = undefined;
  }

  private bufferOf(size: number): Buffer {
    const spare = this.spare;
    this.spare = undefined;
    return spare && spare.length >= size ? spare : Buffer.allocUnsafe(size);
  }

  private moveTo(larger: Buffer): void {
    this.buffer.copy(larger, 0, 0, this.filled);
    this.buffer = larger;
  }
}
