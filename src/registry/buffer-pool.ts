/**
 * A fixed number of equal buffers shared by every upload of the process.
 *
 * With a pair of buffers per upload, memory grew with the number of uploads (200 uploads held 100 MiB of
 * batches, most of them filled by one socket while its previous batch waited on the disk). Here an upload
 * borrows a buffer only while it has bytes to write and gives it back once they are written; when none is
 * free it waits, in the order it asked, and does not read its socket meanwhile: the client is slowed by
 * TCP's own flow control, and the number of sockets the event loop reads at once stays small.
 *
 * A buffer whose write failed may still be held by the storage driver: it is `discard`ed, its place freed
 * for a new buffer, and the garbage collector takes it once the driver lets it go.
 *
 * The buffers are backed by SharedArrayBuffers, so the upload hash thread (upload-hash.ts) reads a batch
 * where it is instead of receiving a copy of it.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** buffers handed out and not yet given back or discarded */
  private lent = 0;
  private readonly waiting: Array<(buffer: Buffer) => void> = [];

  constructor(
    /** bytes per buffer */
    readonly bufferSize: number,
    /** buffers in use at most; they are allocated as needed and kept once allocated */
    readonly capacity: number,
  ) {
    if (!Number.isInteger(bufferSize) || bufferSize <= 0) throw new RangeError(`buffer size must be a positive integer, not ${bufferSize}`);
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  /** Buffers that can be borrowed without waiting. */
  get available(): number {
    return this.capacity - this.lent;
  }

  /** Borrowers waiting for a buffer. */
  get waiters(): number {
    return this.waiting.length;
  }

  /** A buffer at once when one is free, else a promise of the next one given back (first asked, first served). */
  borrow(): Buffer | Promise<Buffer> {
    if (this.lent < this.capacity && this.waiting.length === 0) {
      this.lent++;
      return this.free.pop() ?? this.allocate();
    }
    return new Promise<Buffer>((resolve) => this.waiting.push(resolve));
  }

  /** Gives back a borrowed buffer: the first waiter gets it, or it is kept for the next borrower. */
  giveBack(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buffer);
    else {
      this.lent--;
      this.free.push(buffer);
    }
  }

  private allocate(): Buffer {
    return Buffer.from(new SharedArrayBuffer(this.bufferSize));
  }

  /** A borrowed buffer that must not be reused (a failed write may still hold it): a new one takes its place. */
  discard(): void {
    const next = this.waiting.shift();
    if (next) next(this.allocate());
    else this.lent--;
  }
}
