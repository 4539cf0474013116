/**
 * Writing a blob's bytes into a response.
 *
 * When the registry's blob body offers positional reads (the filesystem driver's READ_AT), the bytes are copied with
 * positional reads into a few buffers that are reused (src/http/copy-buffers.ts): a buffer goes back to a small
 * shared spare list once the socket has taken its bytes (the write callback), so a pull allocates nothing per
 * chunk. Piping the stream instead hands every chunk over in a freshly allocated buffer; on a 100 MB pull that
 * garbage is collected by full mark-compact GCs (triggered by the external memory of the buffers queued on the
 * socket), which cost about three times the CPU of the copy itself (measured in docs/bench.md). Other streams are
 * piped, with the range cut by `take`.
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { BlobBody, ReadAt } from '../registry/index.js';
import { BUFFERS_PER_RESPONSE, copyBuffersFor, SMALL_COPY_CHUNK_SIZE } from './copy-buffers.js';

/**
 * A response's first read is at most this long, so its first bytes leave sooner: the socket sends them while the
 * next (4 MiB) chunk is read (a 4 MiB first read delayed the first body bytes of 10 MB pulls, docs/bench.md).
 */
const FIRST_READ_SIZE = SMALL_COPY_CHUNK_SIZE;

/**
 * Sends `length` bytes of `body`, the blob read from byte `start`, then ends the response. `partial`: a
 * range, shorter than what the stream would yield.
 */
export async function sendBlobBody(res: ServerResponse, body: BlobBody, start: number, length: number, partial: boolean): Promise<void> {
  const source: Readable = body.stream;
  try {
    if (body.readAt) await copyByPosition(res, body.readAt, start, length);
    else if (partial) await pipeline(source, take(length), res);
    else await pipeline(source, res);
  } finally {
    source.destroy();
  }
}

async function copyByPosition(res: ServerResponse, readAt: ReadAt, start: number, length: number): Promise<void> {
  const end = start + length;
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onClose = (): void => {
    failure ??= new Error('the response was closed before the blob was sent');
    notify();
  };
  /** Waits until at most `count` writes are in flight, or the response failed. */
  const settle = async (count: number): Promise<void> => {
    while (inFlight > count && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
  };

  const buffers = copyBuffersFor(length);
  res.on('close', onClose);
  try {
    let position = start;
    while (position < end) {
      await settle(BUFFERS_PER_RESPONSE - 1);
      if (failure !== undefined) throw failure;
      const buffer = buffers.take();
      let bytesRead: number;
      try {
        bytesRead = await readAt(buffer, Math.min(position === start ? FIRST_READ_SIZE : buffer.length, end - position), position);
      } catch (err) {
        buffers.giveBack(buffer);
        throw err;
      }
      if (bytesRead <= 0) {
        buffers.giveBack(buffer);
        throw new Error(`the blob ended at byte ${position}, before the ${end} bytes its size announced`);
      }
      position += bytesRead;
      inFlight++;
      // A buffer goes back only once its write completed: the socket no longer holds it. After a failed
      // or never-completed write it is left to the garbage collector instead.
      res.write(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), (err) => {
        inFlight--;
        if (err) failure ??= err;
        else buffers.giveBack(buffer);
        notify();
      });
    }
    res.end();
    await finished(res);
  } finally {
    res.off('close', onClose);
    buffers.release();
  }
}

/** The first `length` bytes of a stream; leaving the loop early ends (and destroys) the source. */
const take = (length: number) =>
  async function* (source: Readable): AsyncGenerator<Uint8Array> {
    let left = length;
    for await (const chunk of source) {
      const bytes = chunk as Uint8Array;
      const part = bytes.length > left ? bytes.subarray(0, left) : bytes;
      left -= part.length;
      yield part;
      if (left <= 0) break;
    }
  };
