/** Small helpers over the driver for the registry's link files and existence checks. */
import type { FileInfo, ListedPage, ObjectContent, StorageDriver } from '../storage/driver.js';
import { callOrFallback } from '../storage/optional-calls.js';
import { isPathNotFound, undefinedIfNotFound } from '../storage/errors.js';
import { tryParseDigest, type Digest } from './digest.js';
import type { KeptLinks } from './kept-links.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RegistryStorage {
  /** `keptLinks`: links kept under the driver's content stamps (kept-links.ts), when the driver stamps */
  constructor(
    readonly driver: StorageDriver,
    private readonly keptLinks?: KeptLinks,
  ) {}

  /**
   * A link file's digest, or undefined when it is missing (or holds something that is no digest). Answered
   * from memory while the driver stamps the file as it did when it was read (a synchronous local stat).
   */
  async readLink(path: string): Promise<Digest | undefined> {
    // taken before the read: a write in between leaves the read content under an older stamp, never the reverse
    const stamp = this.keptLinks ? this.driver.contentStampSync?.(path) : undefined;
    if (stamp !== undefined) {
      const kept = this.keptLinks!.get(path, stamp);
      if (kept) return kept;
    }
    const content = await this.getOrUndefined(path);
    if (content === undefined) return undefined;
    const digest = tryParseDigest(decoder.decode(content).trim());
    if (digest && stamp !== undefined) this.keptLinks!.keep(path, stamp, digest);
    return digest;
  }

  /** Link files hold the digest string and nothing else, as distribution writes them. */
  async writeLink(path: string, digest: Digest): Promise<void> {
    await this.driver.putContent(path, encoder.encode(digest.value));
  }

  /** Objects stored in order: none is found without those before it, even after a crash (the driver's `putContents`). */
  async putInOrder(objects: readonly ObjectContent[]): Promise<void> {
    // a driver not wrapped by base.ts (a test's bare plugin driver) may have none of its own: the contract's fallback
    return callOrFallback(this.driver, 'putContents')(objects);
  }

  /** A link file's content (see writeLink), for `putInOrder`. */
  linkContent(path: string, digest: Digest): ObjectContent {
    return { path, content: encoder.encode(digest.value) };
  }

  getOrUndefined(path: string): Promise<Uint8Array | undefined> {
    return undefinedIfNotFound(() => this.driver.getContent(path));
  }

  /** The object's size, or undefined when it does not exist. */
  async sizeOf(path: string): Promise<number | undefined> {
    const info = await this.statIfPresent(path);
    return info === undefined || info.isDir ? undefined : info.size;
  }

  /**
   * The driver's stat, undefined when nothing is there: the usual answer of the checks before a blob is stored,
   * which the driver's `statIfPresent` gives without building an error (a bare test driver: the fallback).
   */
  statIfPresent(path: string): Promise<FileInfo | undefined> {
    return callOrFallback(this.driver, 'statIfPresent')(path);
  }

  /** The bytes an upload at `path` holds, undefined when it holds none yet (see `statIfPresent`). */
  uploadSizeIfPresent(path: string): Promise<number | undefined> {
    return callOrFallback(this.driver, 'uploadSizeIfPresent')(path);
  }

  /**
   * Whether an object is at `path`, answered by the driver's content stamp when it gives one (a stamp means
   * an object is there: a synchronous local stat, no thread-pool round trip), else by a stat.
   */
  async holdsObject(path: string): Promise<boolean> {
    if (this.driver.contentStampSync?.(path) !== undefined) return true;
    return (await this.sizeOf(path)) !== undefined;
  }

  async exists(path: string): Promise<boolean> {
    return (await this.statIfPresent(path)) !== undefined;
  }

  /** Direct children (full paths), or undefined when the directory does not exist. */
  listOrUndefined(path: string): Promise<string[] | undefined> {
    return undefinedIfNotFound(() => this.driver.list(path));
  }

  /** Children sorting after `after`, sorted, at most `limit` (see the driver's `listAfter`); undefined when the directory does not exist. */
  listAfterOrUndefined(path: string, after: string | undefined, limit: number): Promise<ListedPage | undefined> {
    // a driver not wrapped by base.ts (a test's bare plugin driver) may have no listAfter of its own: the contract's fallback
    return undefinedIfNotFound(() => callOrFallback(this.driver, 'listAfter')(path, after, limit));
  }

  /** Readies a folder's sorted listing for other processes' first pages (the driver's `prepareListing`; nothing for a driver without one, or a folder that is gone). */
  async prepareListing(path: string): Promise<void> {
    await undefinedIfNotFound(async () => this.driver.prepareListing?.(path));
  }

  async deleteIfPresent(path: string): Promise<boolean> {
    try {
      await this.driver.delete(path);
      return true;
    } catch (err) {
      if (isPathNotFound(err)) return false;
      throw err;
    }
  }
}
