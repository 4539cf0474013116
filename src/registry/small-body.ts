/**
 * Telling a small upload body from a large one by reading it. A small blob (an image config, a small layer) is
 * stored whole with the driver's `putContent` once its digest is verified in memory: on the filesystem that is
 * a file written beside its place in the blob store and renamed in, instead of a session data file appended
 * to, committed, moved and its folder synced. A larger body goes on as a stream: what was read so far, then
 * the rest, so memory stays bounded by `limit` per request whatever the blob's size.
 */
import { disposableLike } from './disposable-pieces.js';

/** Bodies up to this size are read into memory and stored with one putContent. */
export const SMALL_BLOB_BYTES = 64 * 1024;

export type ReadBody =
  | { readonly small: true; readonly bytes: Buffer }
  /** the body as it arrived: the pieces read so far, then the rest of the same iterator */
  | { readonly small: false; readonly body: AsyncIterable<Uint8Array> };

/**
 * Reads `body` until it ends or exceeds `limit` bytes. The body's iterator is never closed early: a large body
 * is handed on with the same iterator, so the request stream stays open for whoever reads the rest.
 */
export async function readSmallBody(body: AsyncIterable<Uint8Array>, limit: number = SMALL_BLOB_BYTES): Promise<ReadBody> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { small: true, bytes: Buffer.concat(head, size) };
    head.push(next.value);
    size += next.value.length;
    if (size > limit) return { small: false, body: disposableLike(body, continued(head, iterator)) };
  }
}

async function* continued(head: Uint8Array[], iterator: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  let ended = false;
  try {
    // handed out one by one and forgotten: a piece already written is not held until the upload ends
    while (head.length > 0) yield head.shift()!;
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    // a reader that stops early closes the body, as a for-await over the body itself would
    if (!ended) await iterator.return?.();
  }
}
