/**
 * Copying an upload's body into a storage writer.
 *
 * The body arrives in the pieces Node's HTTP parser hands out (64 KiB at most, each a freshly allocated
 * buffer). Writing each piece as it comes holds it until the thread pool has written it; pieces held across
 * a scavenge are promoted, and V8 then collects their external memory with full mark-compacts (47 per GiB
 * pushed, about a fifth of the server's CPU; docs/bench.md). So each piece is hashed and copied at once into
 * one of two batch buffers that are reused, and dropped: it dies young. A full batch goes to the writer while
 * the next one fills, so reading the socket and hashing go on during the write instead of waiting for it,
 * and there are four times fewer writes (thread-pool round trips) than pieces. Not 1 MiB: a 1 MiB write into the
 * page cache cost this kernel 6-10 times the system time of four 256 KiB ones (docs/bench.md).
 */
import type { FileWriter } from '../storage/driver.js';

/** Bytes per writer call. */
export const UPLOAD_BATCH_SIZE = 256 * 1024;
/** Batches kept for the next uploads once no upload needs them (at most 2 MiB held while idle). */
const MAX_SPARE_BATCHES = 8;
const spare: Buffer[] = [];

const takeBatch = (): Buffer => spare.pop() ?? Buffer.allocUnsafeSlow(UPLOAD_BATCH_SIZE);
const giveBack = (batch: Buffer): void => {
  if (spare.length < MAX_SPARE_BATCHES) spare.push(batch);
};

/** What sees every byte as it is read (the upload's running hash); called before the bytes are written. */
export type BodyObserver = (piece: Uint8Array) => void;

/**
 * Writes all of `body` with `writer`, one batch in flight at a time; a batch goes out when it is full or when
 * the write before it has returned. When the body fails (the client went away), what was read before is still
 * written if storage takes it, so the upload keeps what it received and stays resumable from there; then the
 * body's error is thrown. A failed write is thrown as it is, and its batch is
 * not reused (the writer may still hold it).
 */
export async function writeBody(body: AsyncIterable<Uint8Array>, writer: FileWriter, observe: BodyObserver): Promise<void> {
  let filling: Buffer | undefined;
  let filled = 0;
  let inFlight: Promise<Buffer> | undefined;
  /** whether the write in flight has returned (its batch can be taken back without waiting) */
  let inFlightDone = false;
  let writeFailed = false;
  /** Waits for the write in flight (the contract allows one at a time); answers its batch, free again. */
  const settle = async (): Promise<Buffer | undefined> => {
    const pending = inFlight;
    inFlight = undefined;
    if (!pending) return undefined;
    try {
      return await pending;
    } catch (err) {
      writeFailed = true;
      throw err;
    }
  };
  /** Sends the filled batch once the one before it is written; that one's buffer fills next. */
  const flush = async (): Promise<void> => {
    const free = await settle();
    const full = filling!;
    const written = writer.write(full.subarray(0, filled)).then(() => full);
    // awaited by the next settle; until then a rejection must not count as unhandled
    written.then(
      () => (inFlightDone = true),
      () => (inFlightDone = true),
    );
    inFlightDone = false;
    inFlight = written;
    filling = free;
    filled = 0;
  };
  const drain = async (): Promise<void> => {
    if (filled > 0) await flush();
    const last = await settle();
    if (last) giveBack(last);
  };
  try {
    for await (const piece of body) {
      observe(piece);
      let offset = 0;
      while (offset < piece.length) {
        filling ??= takeBatch();
        const count = Math.min(UPLOAD_BATCH_SIZE - filled, piece.length - offset);
        filling.set(count === piece.length ? piece : piece.subarray(offset, offset + count), filled);
        filled += count;
        offset += count;
        if (filled === UPLOAD_BATCH_SIZE) await flush();
      }
      // Storage idle: what arrived goes to it now rather than when the batch is full. A slow body is thus
      // stored as it arrives (a client that goes away loses only what came during the last write), and a
      // fast one still fills whole batches, since a write is in flight whenever pieces come quickly.
      if (filled > 0 && (!inFlight || inFlightDone)) await flush();
    }
    await drain();
  } catch (err) {
    // The body failed (the client went away): what was read is still written, so the upload resumes from
    // there. After a failed write nothing more is written, and the write's error is the one thrown.
    if (!writeFailed) await drain().catch(() => undefined);
    throw err;
  } finally {
    if (filling) giveBack(filling);
  }
}
