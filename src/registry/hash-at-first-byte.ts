/**
 * A session's running hash, opened on the hasher at its first byte. Most sessions a POST starts are closed by
 * their next request with the whole blob in a small body, stored whole and hashed in place (uploads.ts), so
 * their running hash would never see a byte: on the hash thread, opening and disposing of it were two
 * messages and two wake-ups of that thread per small push, for nothing.
 */
import type { DigestAlgorithm } from './digest.js';
import type { UploadHash, UploadHasher } from './upload-hash.js';

export function hashAtFirstByte(hasher: UploadHasher, algorithm: DigestAlgorithm): UploadHash {
  let opened: UploadHash | undefined;
  const open = (): UploadHash => (opened ??= hasher.open(algorithm));
  return {
    algorithm,
    get size() {
      return opened?.size ?? 0;
    },
    get lost() {
      return opened?.lost ?? false;
    },
    update: (bytes) => open().update(bytes),
    // the digest of no bytes (an empty blob closed with an empty PUT) still comes from the hasher
    digest: () => open().digest(),
    dispose: () => opened?.dispose(),
  };
}
