/**
 * A session's running hash, opened on the hasher at its first byte. Most sessions a POST starts are closed by
 * their next request with the whole blob in a small body, stored whole and hashed in place (uploads.ts), so
 * their running hash would never see a byte: on the hash thread, opening and disposing of it were two
 * messages and two wake-ups of that thread per small push, for nothing.
 */
import type { DigestAlgorithm } from './digest.js';
import type { UploadHash, UploadHasher } from './upload-hash.js';

export function hashAtFirstByte(hasher: UploadHasher, algorithm: DigestAlgorithm): UploadHash {
  return new HashAtFirstByte(hasher, algorithm);
}

/**
 * A class, so that `size` and `lost` are getters on its prototype: an object literal with getters gave V8 a
 * fresh accessor per POST, and the hidden class made for it kept the literal's closures (the hasher, the
 * opened hash) alive through every young-generation collection until the next mark-compact (docs/bench.md,
 * "Manifest GET tail, fourth pass", the same pattern).
 */
class HashAtFirstByte implements UploadHash {
  private opened: UploadHash | undefined;

  constructor(
    private readonly hasher: UploadHasher,
    readonly algorithm: DigestAlgorithm,
  ) {}

  get size(): number {
    return this.opened?.size ?? 0;
  }

  get lost(): boolean {
    return this.opened?.lost ?? false;
  }

  update(bytes: Uint8Array): Promise<void> | undefined {
    return this.open().update(bytes);
  }

  /** the digest of no bytes (an empty blob closed with an empty PUT) still comes from the hasher */
  digest(): Promise<string> {
    return this.open().digest();
  }

  dispose(): void {
    this.opened?.dispose();
  }

  private open(): UploadHash {
    return (this.opened ??= this.hasher.open(this.algorithm));
  }
}
