/**
 * Test data that is generated, never stored: byte `p` of a pattern is a function of `p` and a random
 * seed block, so gigabytes can be written and checked as streams, from any offset.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';

// An odd length, so block boundaries fall at a different place in every chunk.
const BLOCK_BYTES = 64 * 1024 + 13;
// Blocks repeat every VARIANTS blocks (about 1 MiB): enough to catch a misplaced offset, and at most
// 1 MiB of memory per pattern when 32 streams run at once.
const VARIANTS = 16;

export class Pattern {
  private readonly variants: Buffer[] = [];

  constructor(readonly size: number, private readonly seed: Buffer = randomBytes(BLOCK_BYTES)) {}

  /** Copies bytes [position, position + target.length) of the pattern into target. */
  fill(target: Uint8Array, position: number): void {
    let written = 0;
    while (written < target.length) {
      const at = position + written;
      const block = this.block(Math.floor(at / BLOCK_BYTES));
      const from = at % BLOCK_BYTES;
      const n = Math.min(BLOCK_BYTES - from, target.length - written);
      block.copy(target, written, from, from + n);
      written += n;
    }
  }

  /** Bytes [start, end) as one buffer: for small ranges only. */
  slice(start = 0, end = this.size): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    this.fill(out, start);
    return out;
  }

  /** Bytes [start, end) in fresh chunks of at most chunkBytes. */
  *chunks(start = 0, end = this.size, chunkBytes = 1024 * 1024): Generator<Buffer> {
    for (let at = start; at < end; at += chunkBytes) yield this.slice(at, Math.min(end, at + chunkBytes));
  }

  sha256(start = 0, end = this.size): string {
    const hash = createHash('sha256');
    for (const chunk of this.chunks(start, end)) hash.update(chunk);
    return hash.digest('hex');
  }

  private block(index: number): Buffer {
    const key = index % VARIANTS;
    let block = this.variants[key];
    if (!block) {
      block = Buffer.allocUnsafe(BLOCK_BYTES);
      const mask = key * 17;
      for (let i = 0; i < BLOCK_BYTES; i++) block[i] = this.seed[i]! ^ mask;
      this.variants[key] = block;
    }
    return block;
  }
}

export interface StreamDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Hashes a stream as it is read. */
export async function digestStream(stream: Readable): Promise<StreamDigest> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
    hash.update(data);
    bytes += data.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Reads a small stream whole. */
export async function readSmallStream(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}
