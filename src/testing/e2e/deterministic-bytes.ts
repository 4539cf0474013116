import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

const BLOCK = 64 * 1024;

/**
 * A deterministic pseudo-random byte generator: the AES-128-CTR keystream of a key derived from `seed`.
 * Fast (hardware AES), incompressible, and the same seed always yields the same bytes.
 */
export class DeterministicBytes {
  private readonly cipher;
  private readonly zeros = Buffer.alloc(BLOCK);

  constructor(seed: string) {
    const key = createHash('sha256').update(`stowage-test-bytes:${seed}`).digest();
    this.cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  }

  next(size: number): Buffer {
    if (size <= BLOCK) return this.cipher.update(this.zeros.subarray(0, size));
    return this.cipher.update(Buffer.alloc(size));
  }
}

export function deterministicBuffer(seed: string, size: number): Buffer {
  return new DeterministicBytes(seed).next(size);
}

/** `size` deterministic bytes as a stream, generated as they are read: nothing is held in memory. */
export function deterministicStream(seed: string, size: number): Readable {
  const bytes = new DeterministicBytes(seed);
  let remaining = size;
  return new Readable({
    highWaterMark: BLOCK,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(BLOCK, remaining);
      remaining -= n;
      this.push(bytes.next(n));
    },
  });
}

/** The sha256 digest (`sha256:<hex>`) of the deterministic stream, computed without a server. */
export async function deterministicDigest(seed: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of deterministicStream(seed, size)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
