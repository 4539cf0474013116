/**
 * Manifest bytes by digest, kept in this process. What a digest names never changes, so a copy stays right
 * whatever another process sharing the storage does; whether the manifest is still in a repository (its
 * revision link) and which digest a tag names are read from storage on every request, never from here.
 * Bounded in bytes, so it costs at most MAX_BYTES of memory however many manifests are served.
 */
import { LRUCache } from 'lru-cache';

/** the whole cache; a manifest of an image is usually 0.5-10 KB, so this holds hundreds to thousands */
const MAX_BYTES = 4 * 1024 * 1024;
/** a larger manifest (up to MAX_MANIFEST_SIZE) is read from storage each time rather than crowd out the rest */
const MAX_ENTRY_BYTES = 256 * 1024;

/** a manifest's bytes and the media type they are served with, worked out once from the bytes */
export interface KeptManifest {
  readonly content: Uint8Array;
  readonly mediaType: string;
}

export class ManifestBytesCache {
  private readonly entries = new LRUCache<string, KeptManifest>({ maxSize: MAX_BYTES, sizeCalculation: (kept, digest) => kept.content.length + digest.length + kept.mediaType.length });

  get(digest: string): KeptManifest | undefined {
    return this.entries.get(digest);
  }

  /** `content` must be the verified bytes of `digest` (read from its blob, or hashed on push), `mediaType` what they say (storedMediaType) */
  remember(digest: string, content: Uint8Array, mediaType: string): void {
    if (content.length <= MAX_ENTRY_BYTES) this.entries.set(digest, { content, mediaType });
  }
}
