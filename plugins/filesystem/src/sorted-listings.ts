/**
 * Sorted listings of folders, kept while a folder is unchanged, so that a page of a large folder (100,000
 * tags) costs a stat and a binary search rather than reading every name again (lazily-sorted-names.ts).
 *
 * A folder's change and modification times move whenever an entry is added, removed or renamed, by this
 * process or any other on the same filesystem, so a kept listing is used only while the folder's device,
 * inode and both times (in nanoseconds) are what they were when it was read, and only when those times were
 * already settled when its stat was taken (settled-times.ts), and only on a filesystem whose stat answers what
 * is stored now (local-filesystem.ts): on a network filesystem a folder's times can come from a client cache.
 *
 * A folder that cannot be kept (its times not settled yet, as right after something wrote to it) is read
 * for the one page asked for: a pass over its names that keeps only that page (page-selection.ts), with no
 * sort of the whole listing and no array of all its names.
 */
import { stat as statCallback, type BigIntStats } from 'node:fs';
import { scanFolder } from './folder-scan.js';
import { LazilySortedNames } from './lazily-sorted-names.js';
import { PageSelection } from './page-selection.js';
import { timesSettled } from './settled-times.js';

/** how many names all kept listings hold at most (least recently used listings go first) */
const MAX_KEPT_NAMES = 250_000;

const statBigInt = (path: string): Promise<BigIntStats> =>
  new Promise((resolve, reject) => statCallback(path, { bigint: true }, (err, info) => (err ? reject(err) : resolve(info))));

interface KeptListing {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly names: LazilySortedNames;
}

/** One page of a folder's sorted names. */
export interface NamePage {
  readonly names: readonly string[];
  /** whether more names follow the page */
  readonly more: boolean;
}

/** Names with `~` are partial or temporary files, which are not objects. */
const isObjectName = (name: string): boolean => !name.includes('~');

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
    const looked = await this.look(folder);
    return (looked.kept ?? (await this.readWhole(folder, looked))).all();
  }

  /**
   * The `limit` names of `folder` sorting after `after` (all of them from the start when undefined), as
   * `names` would give them, and whether more follow. A folder that cannot be kept is not sorted whole.
   */
  async page(folder: string, after: string | undefined, limit: number): Promise<NamePage> {
    const looked = await this.look(folder);
    if (looked.kept) return looked.kept.pageAfter(after, limit);
    if (looked.keepable) return (await this.readWhole(folder, looked)).pageAfter(after, limit);
    const selection = new PageSelection(after, limit);
    await scanFolder(folder, (name) => {
      if (isObjectName(name)) selection.offer(name);
    });
    return selection.page();
  }

  /** The folder's kept listing while it is current; otherwise whether what is read now may be kept. */
  private async look(folder: string): Promise<{ kept?: LazilySortedNames; keepable: boolean; info: BigIntStats }> {
    const statedAt = Date.now();
    const info = await statBigInt(folder);
    if (!info.isDirectory()) throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
    const kept = this.kept.get(folder);
    if (kept) {
      this.forget(folder, kept);
      if (kept.dev === info.dev && kept.ino === info.ino && kept.mtimeNs === info.mtimeNs && kept.ctimeNs === info.ctimeNs) {
        this.keep(folder, kept);
        return { kept: kept.names, keepable: true, info };
      }
    }
    return { keepable: timesSettled(info, statedAt) && this.timesTrusted(), info };
  }

  /** Reads the whole folder (sorted as pages need it), and keeps it when `looked` says it may be. */
  private async readWhole(folder: string, looked: { keepable: boolean; info: BigIntStats }): Promise<LazilySortedNames> {
    // read after the stat: a change in between makes the kept times older than the folder's, never newer
    const names: string[] = [];
    await scanFolder(folder, (name) => {
      if (isObjectName(name)) names.push(name);
    });
    const listing = new LazilySortedNames(names);
    const { info } = looked;
    if (looked.keepable && listing.size <= MAX_KEPT_NAMES) {
      this.keep(folder, { dev: info.dev, ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs, names: listing });
    }
    return listing;
  }

  private keep(folder: string, listing: KeptListing): void {
    this.kept.set(folder, listing);
    this.keptNames += listing.names.size;
    for (const [oldest, old] of this.kept) {
      if (this.keptNames <= MAX_KEPT_NAMES) break;
      this.forget(oldest, old);
    }
  }

  private forget(folder: string, listing: KeptListing): void {
    this.kept.delete(folder);
    this.keptNames -= listing.names.size;
  }
}
