/**
 * Sorted listings of folders, kept while a folder is unchanged, so that a page of a large folder (100,000
 * tags) costs a stat and a binary search rather than reading and sorting every name again.
 *
 * A folder's change and modification times move whenever an entry is added, removed or renamed, by this
 * process or any other on the same filesystem, so a kept listing is used only while the folder's device,
 * inode and both times (in nanoseconds) are what they were when it was read. A filesystem stamps times
 * from a coarse clock: two changes within one tick can leave the same time, and a listing read right after
 * the first would then look current after the second. So a listing is kept only when the folder's times
 * were already settled when its stat was taken, older than any later change can be stamped: a Linux
 * filesystem with fine times (ext4, xfs, btrfs, tmpfs) stamps from a clock at most one tick (4-10 ms) behind,
 * so 100 ms is ample; times in whole seconds (ext3, FAT and some network filesystems) get 2 s.
 */
import { readdir as readdirCallback, stat as statCallback, type BigIntStats } from 'node:fs';

/** how old a folder's times must be for its listing to be kept, for fine and for whole-second times */
const SETTLED_MS = 100;
const SETTLED_WHOLE_SECONDS_MS = 2_000;
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
    const wholeSeconds = info.mtimeNs % 1_000_000_000n === 0n && info.ctimeNs % 1_000_000_000n === 0n;
    const settledBefore = BigInt(statedAt - (wholeSeconds ? SETTLED_WHOLE_SECONDS_MS : SETTLED_MS)) * 1_000_000n;
    if (info.mtimeNs < settledBefore && info.ctimeNs < settledBefore && names.length <= MAX_KEPT_NAMES) {
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
