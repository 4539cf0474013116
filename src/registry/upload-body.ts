/**
 * Copying an upload's body into a storage writer.
 *
 * The body arrives in the pieces Node's HTTP parser hands out (64 KiB at most, each a freshly allocated
 * buffer). Writing each piece as it comes holds it until the thread pool has written it; pieces held across
 * a scavenge are promoted, and V8 then collects their external memory with full mark-compacts (47 per GiB
 * pushed, about a fifth of the server's CPU; docs/bench.md). So each piece is copied at once into a batch
 * buffer that is reused, and dropped: it dies young. A batch is 1 MiB, sixteen pieces: every write is a
 * thread-pool round trip (a wake-up of a pool thread, then of the request loop), and 256 KiB batches cost a
 * 256 MB push 70-110 ms more server CPU than 1 MiB ones (docs/bench.md, "Large uploads, fifth pass"; an
 * earlier measurement that found 1 MiB writes dearer in the kernel did not reproduce on this kernel).
 *
 * A full batch is hashed (or handed to the hash thread, upload-hash.ts) and queued for the writer, and the
 * socket is read on into the next batch: the writer takes one write at a time, but up to
 * UPLOAD_BATCHES_IN_FLIGHT batches of an upload wait for it before the upload stops reading. With one batch in
 * flight, a 256 MB push spent a third of its time waiting for the write of the previous batch to come back
 * from the thread pool with the socket unread (docs/bench.md, "Large uploads, fifth pass").
 *
 * The batches come from one pool shared by all uploads (buffer-pool.ts): an upload holds them only while it
 * has bytes to write, so memory stays bounded however many uploads run, and an upload whose client stalls
 * holds none once what it sent is written.
 *
 * A piece of a body marked by its owner (a request's, disposable-pieces.ts) is freed as soon as it is copied:
 * left to the garbage collector, the pieces' external memory started full mark-compacts (docs/bench.md).
 */
import type { FileWriter } from '../storage/driver.js';
import { BufferPool } from './buffer-pool.js';
import { declaredLengthOf } from './declared-length.js';
import { disposePiece, hasDisposablePieces } from './disposable-pieces.js';

/** Bytes per writer call. */
export const UPLOAD_BATCH_SIZE = 1024 * 1024;
/**
 * Filled batches of one upload that may wait for (or be in) the writer before the upload stops reading its
 * socket: 2 MiB, so that one slow return from the thread pool (a few ms on a busy machine) does not stall the
 * client, and a stall of the disk still stops the reading after 2 MiB.
 */
export const UPLOAD_BATCHES_IN_FLIGHT = 2;
/**
 * Batches in use at once by all uploads together (8 MiB). One upload uses UPLOAD_BATCHES_IN_FLIGHT + 1 at most
 * (those in flight and the one filling), so two uploads go at full speed side by side; more share the pool,
 * each waiting its turn for a batch (first asked, first served).
 */
const UPLOAD_BATCHES = 8;

/** The batches every upload of this process shares. */
export const uploadBatches = new BufferPool(UPLOAD_BATCH_SIZE, UPLOAD_BATCHES);

/**
 * What sees every byte (the upload's running hash): called with each batch as it is queued for the writer,
 * in order. A promise says the batch is still being read (by the hash thread): it is not reused before the
 * promise settles, which it must do without rejecting.
 */
export type BodyObserver = (batch: Uint8Array) => Promise<void> | undefined;

/** A filled batch on its way to the writer. */
interface QueuedBatch {
  readonly batch: Buffer;
  /** the filled part of the batch */
  readonly bytes: Uint8Array;
  /** the observer's reading of it (undefined: done already) */
  readonly observed: Promise<void> | undefined;
}

/**
 * Writes all of `body` with `writer`, one write at a time, up to `inFlight` filled batches queued; a batch
 * goes out when it is full, or when storage is idle while the body is awaited (at once, or as soon as the
 * writes in flight return). When the body fails (the client went away), what was read before is still
 * written if storage takes it, so the upload keeps what it received and stays resumable from there; then the
 * body's error is thrown. A failed write is thrown as it is, nothing is written after it, and its batch is
 * not reused (the writer may still hold it).
 */
export async function writeBody(body: AsyncIterable<Uint8Array>, writer: FileWriter, observe: BodyObserver, pool: BufferPool = uploadBatches, inFlight = UPLOAD_BATCHES_IN_FLIGHT): Promise<void> {
  let filling: Buffer | undefined;
  let filled = 0;
  /** filled batches not yet handed to the writer, in body order */
  const queued: QueuedBatch[] = [];
  /** the write in flight (the contract allows one at a time); it never rejects: a failure is kept in `writeFailure` */
  let writing: Promise<void> | undefined;
  let writeFailure: { readonly error: unknown } | undefined;
  /** whether the loop is waiting for the body's next piece (a returning write then sends what is filled) */
  let awaitingBody = false;
  const freePieces = hasDisposablePieces(body);
  const length = declaredLengthOf(body);
  if (length !== undefined) writer.expectSize?.(writer.size + length);

  /** Batches of this upload queued or being written. */
  const pending = (): number => queued.length + (writing ? 1 : 0);

  /** Queues the filled part of the batch for the writer; the observer sees it now, so it sees the body in order. */
  const enqueue = (): void => {
    const batch = filling!;
    const bytes = batch.subarray(0, filled);
    filling = undefined;
    filled = 0;
    queued.push({ batch, bytes, observed: observe(bytes) });
  };
  /** A batch is given back once the observer is done with it too. */
  const release = ({ batch, observed }: QueuedBatch): void => {
    if (observed) void observed.then(() => pool.giveBack(batch));
    else pool.giveBack(batch);
  };
  /** Starts the next queued write when none is in flight. */
  const pump = (): void => {
    if (writing || writeFailure) return;
    // storage is idle: what arrived meanwhile goes out now rather than wait for more of a body that may stall
    if (queued.length === 0 && awaitingBody && filled > 0) enqueue();
    const next = queued.shift();
    if (!next) return;
    writing = writer.write(next.bytes).then(
      () => {
        writing = undefined;
        release(next);
        pump();
      },
      (error: unknown) => {
        writing = undefined;
        writeFailure = { error };
        pool.discard();
        // nothing is written after a failed write: the batches still queued go back unwritten
        for (const unwritten of queued.splice(0)) release(unwritten);
      },
    );
  };
  /** Waits until fewer than `limit` batches are pending; throws the failure of a write that failed. */
  const waitBelow = async (limit: number): Promise<void> => {
    while (writing && pending() >= limit) await writing;
    if (writeFailure) throw writeFailure.error;
  };
  const drain = async (): Promise<void> => {
    if (filled > 0 && !writeFailure) enqueue();
    pump();
    await waitBelow(1);
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
        if (!filling) {
          const lent = pool.borrow();
          filling = lent instanceof Buffer ? lent : await lent;
        }
        const count = Math.min(filling.length - filled, piece.length - offset);
        filling.set(count === piece.length ? piece : piece.subarray(offset, offset + count), filled);
        filled += count;
        offset += count;
        if (filled === filling.length) {
          enqueue();
          pump();
          await waitBelow(inFlight);
        }
      }
      // its bytes are in the batch: nothing reads the piece again
      if (freePieces) disposePiece(piece);
      awaitingBody = true;
      pump();
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
    // batches queued after a write failed (one filled while the loop waited for a batch) were never written
    for (const unwritten of queued.splice(0)) release(unwritten);
  }
}
