/**
 * The buffers blob GETs copy through (src/http/blob-body.ts), reused so that a pull allocates nothing per chunk.
 *
 * Two sizes. A body over 1 MiB is copied in 4 MiB chunks: per chunk, a pull pays a thread-pool round trip for the
 * positional read, a wake-up of the event loop and a few socket writes, and on a 256 MB pull those per-chunk costs
 * were a fifth of the server's CPU at 1 MiB (docs/bench.md, "Large pulls in 4 MiB chunks"). distribution reads a
 * blob through a 4 MB buffer too. Bodies of at most 1 MiB keep 1 MiB buffers, so many small pulls at once do not
 * each hold 4 MiB.
 *
 * Memory stays bounded whatever the number of pulls: at most LARGE_RESPONSES responses copy through 4 MiB buffers
 * at a time (two buffers each: 64 MiB); the responses beyond them copy through 1 MiB buffers. Spares kept: at most
 * 8 x 1 MiB, and 2 x 4 MiB until no large pull has run for LARGE_SPARES_IDLE_MS (back-to-back pulls reuse them; an
 * idle registry does not hold 8 MiB for the next one).
 */

const MiB = 1024 * 1024;

/** Bytes per positional read and per socket write of a body over SMALL_COPY_CHUNK_SIZE. */
export const COPY_CHUNK_SIZE = 4 * MiB;
/** Bytes per positional read and per socket write of a small body, and of any body while the large ones are all taken. */
export const SMALL_COPY_CHUNK_SIZE = MiB;
/** Buffers one response has in use at most: one being read into while the other is on the socket. */
export const BUFFERS_PER_RESPONSE = 2;
/** Responses that may copy through COPY_CHUNK_SIZE buffers at the same time. */
export const LARGE_RESPONSES = 8;

/** How long the 4 MiB spares outlive the last large response. */
export const LARGE_SPARES_IDLE_MS = 5_000;

/** Buffers of one size, kept for reuse once the socket has written them. */
class SpareBuffers {
  private spare: Buffer[] = [];

  constructor(
    readonly size: number,
    private readonly maxSpare: number,
  ) {}

  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** `buffer` is no longer referenced by anything (its write completed). */
  giveBack(buffer: Buffer): void {
    if (this.spare.length < this.maxSpare) this.spare.push(buffer);
  }

  /** Lets the spares go to the garbage collector. */
  drop(): void {
    this.spare = [];
  }
}

const large = new SpareBuffers(COPY_CHUNK_SIZE, BUFFERS_PER_RESPONSE);
const small = new SpareBuffers(SMALL_COPY_CHUNK_SIZE, 8);
let largeResponses = 0;
let dropLargeSpares: NodeJS.Timeout | undefined;

/** The buffers one response copies through; `release` once the response is over (whatever its outcome). */
export interface CopyBuffers {
  take(): Buffer;
  giveBack(buffer: Buffer): void;
  release(): void;
}

/** What every response copying through 1 MiB buffers uses: it holds no state of its own. */
const smallCopyBuffers: CopyBuffers = { take: () => small.take(), giveBack: (buffer) => small.giveBack(buffer), release: () => {} };

/** Buffers for a response body of `length` bytes. */
export function copyBuffersFor(length: number): CopyBuffers {
  if (length <= SMALL_COPY_CHUNK_SIZE || largeResponses >= LARGE_RESPONSES) return smallCopyBuffers;
  largeResponses++;
  clearTimeout(dropLargeSpares);
  let released = false;
  return {
    take: () => large.take(),
    giveBack: (buffer) => large.giveBack(buffer),
    release: () => {
      if (released) return;
      released = true;
      if (--largeResponses > 0) return;
      // unref: an idle registry's timer does not keep a stopping process alive
      dropLargeSpares = setTimeout(() => large.drop(), LARGE_SPARES_IDLE_MS).unref();
    },
  };
}
