/**
 * Copying an upload's body into a storage writer.
 *
 * The body arrives in the pieces Node's HTTP parser hands out (64 KiB at most, each a freshly allocated
 * buffer). Writing each piece as it comes holds it until the thread pool has written it; pieces held across
 * a scavenge are promoted, and V8 then collects their external memory with full mark-compacts (47 per GiB
 * pushed, about a fifth of the server's CPU; docs/bench.md). So each piece is copied at once into one of
 * two batch buffers that are reused, and dropped: it dies young. A full batch goes to the writer and to the
 * hash thread (upload-hash.ts) while the next one fills, so reading the socket goes on during the write,
 * and there are four times fewer writes (thread-pool round trips) than pieces. Not 1 MiB: a 1 MiB write into the
 * page cache cost this kernel 6-10 times the system time of four 256 KiB ones (docs/bench.md).
 *
 * The batches come from one pool shared by all uploads (buffer-pool.ts): an upload holds one only while it
 * has bytes to write, so memory stays bounded however many uploads run, and an upload whose client stalls
 * holds none once what it sent is written.
 *
 * A piece of a body marked by its owner (a request's, disposable-pieces.ts) is freed as soon as it is copied:
 * left to the garbage collector, the pieces' external memory started full mark-compacts (docs/bench.md).
 */
import type { FileWriter } from '../storage/driver.js';
import { BufferPool } from './buffer-pool.js';
import { disposePiece, hasDisposablePieces } from './disposable-pieces.js';

/** Bytes per writer call. */
export const UPLOAD_BATCH_SIZE = 256 * 1024;
/**
 * Batches in use at once by all uploads together (8 MiB). One upload uses two at most (one filling while
 * the other is written), so 16 uploads go at full speed side by side; more wait their turn for a batch.
 */
const UPLOAD_BATCHES = 32;

/** The batches every upload of this process shares. */
export const uploadBatches = new BufferPool(UPLOAD_BATCH_SIZE, UPLOAD_BATCHES);

/**
 * What sees every byte (the upload's running hash): called with each batch as it goes to the writer, in
 * order. A promise says the batch is still being read (by the hash thread): it is not reused before the
 * promise settles, which it must do without rejecting.
 */
export type BodyObserver = (batch: Uint8Array) => Promise<void> | undefined;

/**
 * Writes all of `body` with `writer`, one batch in flight at a time; a batch goes out when it is full, or
 * when storage is idle while the body is awaited (at once, or as soon as the write in flight returns).
 * When the body fails (the client went away), what was read before is still written if storage takes it,
 * so the upload keeps what it received and stays resumable from there; then the body's error is thrown. A
 * failed write is thrown as it is, and its batch is not reused (the writer may still hold it).
 */
export async function writeBody(body: AsyncIterable<Uint8Array>, writer: FileWriter, observe: BodyObserver, pool: BufferPool = uploadBatches): Promise<void> {
  let filling: Buffer | undefined;
  let filled = 0;
  /** the write in flight (the contract allows one at a time); it never rejects: a failure is kept in `writeFailure` */
  let writing: Promise<void> | undefined;
  let writeFailure: { readonly error: unknown } | undefined;
  /** whether the loop is waiting for the body's next piece (a returning write then sends what is filled) */
  let awaitingBody = false;
  const freePieces = hasDisposablePieces(body);

  /**
   * Sends the filled part of the batch to the writer and the observer side by side; only when no write is
   * in flight. The batch is theirs until both are done with it.
   */
  const send = (): void => {
    const batch = filling!;
    const region = batch.subarray(0, filled);
    filling = undefined;
    filled = 0;
    const observed = observe(region);
    writing = Promise.all([writer.write(region), observed]).then(
      () => {
        pool.giveBack(batch);
        writing = undefined;
        // what arrived during the write goes out now rather than wait for more of a body that may stall
        if (awaitingBody && filled > 0) send();
      },
      (error: unknown) => {
        pool.discard();
        writeFailure = { error };
        writing = undefined;
      },
    );
  };
  /** Waits until no write is in flight; throws the failure of one that failed. */
  const settle = async (): Promise<void> => {
    while (writing) await writing;
    if (writeFailure) throw writeFailure.error;
  };
  const drain = async (): Promise<void> => {
    await settle();
    if (filled > 0) send();
    await settle();
  };

  /** Storage idle: what arrived goes to it now rather than when the batch is full (see below). */
  const sendIfIdle = (): void => {
    if (filled > 0 && !writing && !writeFailure) send();
  };
  try {
    // A slow body is thus stored as it arrives (a client that goes away loses only what came during the
    // last write), and a fast one still fills whole batches, since a write is in flight whenever pieces
    // come quickly. `awaitingBody` is true exactly while the loop waits for the next piece.
    awaitingBody = true;
    for await (const piece of body) {
      awaitingBody = false;
      if (writeFailure) throw writeFailure.error;
      let offset = 0;
      while (offset < piece.length) {
        filling ??= await pool.borrow();
        const count = Math.min(filling.length - filled, piece.length - offset);
        filling.set(count === piece.length ? piece : piece.subarray(offset, offset + count), filled);
        filled += count;
        offset += count;
        if (filled === filling.length) {
          await settle();
          send();
        }
      }
      // its bytes are in the batch: nothing reads the piece again
      if (freePieces) disposePiece(piece);
      sendIfIdle();
      awaitingBody = true;
    }
    awaitingBody = false;
    await drain();
  } catch (err) {
    awaitingBody = false;
    // The body failed (the client went away): what was read is still written, so the upload resumes from
    // there. After a failed write nothing more is written, and the write's error is the one thrown.
    if (!writeFailure) await drain().catch(() => undefined);
    throw err;
  } finally {
    if (filling) pool.giveBack(filling);
  }
}
