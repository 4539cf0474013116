/**
 * Freeing an upload body's pieces as soon as their bytes are copied.
 *
 * Node's HTTP parser hands out a request body as one freshly allocated buffer per socket read (64 KiB at most),
 * each the whole of an ArrayBuffer of its own, which V8 counts as external memory until a collection frees it.
 * Left to the collector, those pieces decided how a large push was collected (docs/bench.md, "Large pushes: the
 * body's pieces freed as they are copied"). Dead young pieces are freed by a scavenge, which V8 starts after
 * 32 MiB of them; but external memory allocated since the last mark-compact also counts against the old
 * generation's allocation limit, which V8 sets at about twice stowage's small live heap (24 MiB for 12 MiB).
 * Whenever that limit was the nearer, V8 ran a full mark-compact every 10-20 MiB of body (10-14 per 256 MiB
 * push, about a third of its CPU), and which one was nearer changed from run to run. Once an upload has copied
 * a piece into its batch nobody needs the piece: its ArrayBuffer is detached at once by transferring it in a
 * message posted to a closed port (Node still serialises such a message, which detaches what it transfers,
 * then drops it), so its memory goes back to malloc at once and V8's external count never grows with the body.
 *
 * Only pieces of a body its owner marked are freed (the HTTP layer marks a request's body, whose pieces nobody
 * else holds; an embedder's own buffers are left alone), and only a piece that is the whole of an ArrayBuffer:
 * a view into a larger buffer shares it.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';

const marked = new WeakSet<object>();

/** Marks `body` as one whose pieces belong to its reader: each may be freed once its bytes are copied. */
export function disposablePieces<T extends AsyncIterable<Uint8Array>>(body: T): T {
  marked.add(body);
  return body;
}

/** Whether `body` was marked by disposablePieces. */
export function hasDisposablePieces(body: AsyncIterable<Uint8Array>): boolean {
  return marked.has(body);
}

/** `body`, marked as `source` is: for a body that hands on the pieces of another (a wrapper, the rest of a read). */
export function disposableLike<T extends AsyncIterable<Uint8Array>>(source: AsyncIterable<Uint8Array>, body: T): T {
  return hasDisposablePieces(source) ? disposablePieces(body) : body;
}

let closedPort: MessagePort | undefined;

/** Frees `piece` now when it is the whole of its ArrayBuffer; leaves it as it is otherwise. */
export function disposePiece(piece: Uint8Array): void {
  const owner = piece.buffer;
  if (!(owner instanceof ArrayBuffer) || piece.byteOffset !== 0 || piece.byteLength !== owner.byteLength || owner.byteLength === 0) return;
  if (!closedPort) {
    closedPort = new MessageChannel().port1;
    closedPort.close();
  }
  try {
    closedPort.postMessage(null, [owner]);
  } catch {
    // an ArrayBuffer that cannot be detached (WebAssembly memory, say) is left to the collector
  }
}
