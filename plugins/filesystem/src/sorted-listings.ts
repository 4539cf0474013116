/**
 * Sorted listings of folders, kept while a folder is unchanged, so that a page of a large folder (100,000
 * tags) costs a stat and a binary search rather than reading and sorting every name again.
 *
 * A folder's change and modification times move whenever an entry is added, removed or renamed, by this
 * process or any other on the same filesystem, so a kept listing is used only while the folder's device,
 * inode and both times (in nanoseconds) are what they were when it was read, and only when those times were
 * already settled when its stat was taken (settled-times.ts), and only on a filesystem whose stat answers what
 * is stored now (local-filesystem.ts): on a network filesystem a folder's times can come from a client cache.
 */
import { readdir as readdirCallback, stat as statCallback, type BigIntStats } from 'node:fs';
import { timesSettled } from './settled-times.js';

/** how many names all kept listings hold at most (least recently used listings go first) */
const MAX_KEPT_NAMES = 250_000;

const statBigInt = (path: string): Promise<BigIntStats> =>
  new Promise((resolve, reject) => statCallback(path, { bigint: true }, (err, info) => (err ? reject(err) : resolve(info))));
const readdir = (path: string): Promise<string[]> => new Promise((resolve, reject) => readdirCallback(path, (err, names) => (err ? reject(err) : resolve(names))));

interface KeptListing {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly names: readonly string[];
}

const codeUnitOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class SortedListings {
  /** in order of last use (a Map keeps insertion order) */
  private readonly kept = new Map<string, KeptListing>();
  private keptNames = 0;

  /** `timesTrusted`: whether the folders' stat answers what is stored now (false on network filesystems) */
  constructor(private readonly timesTrusted: () => boolean = () => true) {}

  /**
   * The names in `folder`, sorted by code unit, without the `~` temporaries. Rejects as `stat`/`readdir`
   * do (ENOENT, ENOTDIR).
   */
  async names(folder: string): Promise<readonly string[]> {
    const statedAt = Date.now();
    const info = await statBigInt(folder);
    if (!info.isDirectory()) throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
    const kept = this.kept.get(folder);
    if (kept) {
      this.forget(folder, kept);
      if (kept.dev === info.dev && kept.ino === info.ino && kept.mtimeNs === info.mtimeNs && kept.ctimeNs === info.ctimeNs) {
        this.keep(folder, kept);
        return kept.names;
      }
    }
    // read after the stat: a change in between makes the kept times older than the folder's, never newer
    const names = (await readdir(folder)).filter((name) => !name.includes('~')).sort(codeUnitOrder);
    if (timesSettled(info, statedAt) && names.length <= MAX_KEPT_NAMES && this.timesTrusted()) {
      this.keep(folder, { dev: info.dev, ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs, names });
    }
    return names;
  }

  private keep(folder: string, listing: KeptListing): void {
    this.kept.set(folder, listing);
    this.keptNames += listing.names.length;
    for (const [oldest, old] of this.kept) {
      if (this.keptNames <= MAX_KEPT_NAMES) break;
      this.forget(oldest, old);
    }
  }

  private forget(folder: string, listing: KeptListing): void {
    this.kept.delete(folder);
    this.keptNames -= listing.names.length;
  }
}

/** `limit` names of `sortedNames` sorting after `after`, as full paths under `prefix` (`/`-terminated). */
export function pageAfter(prefix: string, sortedNames: readonly string[], after: string | undefined, limit: number): { children: string[]; more: boolean } {
  let start = 0;
  if (after !== undefined) {
    let high = sortedNames.length;
    while (start < high) {
      const middle = (start + high) >>> 1;
      if (sortedNames[middle]! <= after) start = middle + 1;
      else high = middle;
    }
  }
  const end = Math.min(sortedNames.length, start + Math.max(0, limit));
  const children: string[] = [];
  for (let i = start; i < end; i++) children.push(prefix + sortedNames[i]);
  return { children, more: end < sortedNames.length };
}
