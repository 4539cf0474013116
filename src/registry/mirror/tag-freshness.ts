/**
 * When each mirrored tag was last confirmed by its upstream, kept in storage beside the tag
 * (`_manifests/tags/<tag>/fetchedat`, StorageLayout.tagFetchedAt) so that every stowage process on the
 * storage agrees on it, and it goes away with the tag. A record names the digest it confirmed: a tag
 * re-pointed since (by another process fetching a newer one) is judged by its own record only.
 */
import { tryParseDigest } from '../digest.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryStorage } from '../storage.js';

export interface TagFetchRecord {
  /** milliseconds since the epoch */
  readonly fetchedAt: number;
  readonly digest: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class TagFreshness {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
  ) {}

  /** the record, or undefined when there is none or it cannot be read (then the tag counts as stale) */
  async read(name: string, tag: string): Promise<TagFetchRecord | undefined> {
    const content = await this.storage.getOrUndefined(this.layout.tagFetchedAt(name, tag));
    if (content === undefined) return undefined;
    try {
      const record = JSON.parse(decoder.decode(content)) as { fetchedAt?: unknown; digest?: unknown };
      const fetchedAt = typeof record.fetchedAt === 'string' ? Date.parse(record.fetchedAt) : Number.NaN;
      if (Number.isNaN(fetchedAt) || typeof record.digest !== 'string' || !tryParseDigest(record.digest)) return undefined;
      return { fetchedAt, digest: record.digest };
    } catch {
      return undefined;
    }
  }

  async write(name: string, tag: string, digest: string, fetchedAt: number): Promise<void> {
    const record = JSON.stringify({ fetchedAt: new Date(fetchedAt).toISOString(), digest });
    await this.storage.driver.putContent(this.layout.tagFetchedAt(name, tag), encoder.encode(record));
  }
}
