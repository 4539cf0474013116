/**
 * The labels of image configs the index has read, by config digest. What a digest names never changes, so
 * the labels stay right whatever happens to the blob; a push naming a config read before (the same image
 * under another tag, as a CI pipeline pushes it) costs no storage read and no parse. Bounded in bytes.
 */
import { LRUCache } from 'lru-cache';
import type { Annotations } from './store.js';

/** the whole cache: real label sets are tens to hundreds of bytes, so this holds thousands */
const MAX_BYTES = 1024 * 1024;
/** a larger label set is read again each time rather than crowd out the rest */
const MAX_ENTRY_BYTES = 64 * 1024;

const sizeOf = (labels: Annotations, digest: string): number =>
  Object.entries(labels).reduce((sum, [key, value]) => sum + key.length + value.length, digest.length + 1);

export class ConfigLabelsCache {
  private readonly entries = new LRUCache<string, Annotations>({ maxSize: MAX_BYTES, sizeCalculation: sizeOf });

  get(digest: string): Annotations | undefined {
    return this.entries.get(digest);
  }

  /** `labels` must have been read from the blob `digest` names */
  remember(digest: string, labels: Annotations): void {
    if (sizeOf(labels, digest) <= MAX_ENTRY_BYTES) this.entries.set(digest, labels);
  }
}
