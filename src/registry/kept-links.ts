/**
 * Link files (a tag's current digest, revision and layer links) kept in memory under the content stamp the
 * driver gave when they were read (StorageDriver.contentStampSync). A kept link is answered only while the
 * driver stamps its file the same, which it promises means the same content whatever any process sharing
 * the storage wrote since: a tag moved by another process is read again on the very next request. Shared by
 * the registry's per-request views; bounded in entries.
 */
import { LRUCache } from 'lru-cache';
import type { Digest } from './digest.js';

/** link paths kept at most: a path and its digest are about 300 bytes, so this is a few MB at most */
const MAX_LINKS = 20_000;

interface KeptLink {
  readonly stamp: string;
  readonly digest: Digest;
}

export class KeptLinks {
  private readonly links = new LRUCache<string, KeptLink>({ max: MAX_LINKS });

  /** the digest kept for `path` under exactly `stamp`, else undefined */
  get(path: string, stamp: string): Digest | undefined {
    const kept = this.links.get(path);
    return kept?.stamp === stamp ? kept.digest : undefined;
  }

  /** `stamp` must have been taken before the read that gave `digest`: a change in between then only makes the stamp stale */
  keep(path: string, stamp: string, digest: Digest): void {
    this.links.set(path, { stamp, digest });
  }
}
