/**
 * Sorted listings of folders, kept while a folder is unchanged, so that a page of a large folder (100,000
 * tags) costs a stat and a binary search rather than reading every name again (lazily-sorted-names.ts).
 *
 * A folder's change and modification times move whenever an entry is added, removed or renamed, by this
 * process or any other on the same filesystem, so a kept listing is used only while the folder's device,
 * inode and both times (in nanoseconds) are what they were when it was read, and only when those times were
 * already settled when its stat was taken (settled-times.ts: at once where the filesystem stamps a change
 * after a stat later than the stat saw, else once older than the filesystem's clock tick), and only on a
 * filesystem whose stat answers what is stored now (local-filesystem.ts): on a network filesystem a
 * folder's times can come from a client cache.
 *
 * Pages asked for while a folder is being read whole share that read when their own stat shows the times
 * the read's stat showed, settled: the very condition under which they would use the listing once kept.
 *
 * A folder that cannot be kept (its times not settled yet, as right after something wrote to it) is read
 * for the one page asked for: a pass over its names that keeps only that page (page-selection.ts), with no
 * sort of the whole listing and no array of all its names.
 *
 * A large folder (`listingFileFromBytes`) not kept in memory is first looked for in its listing file
 * (listing-file.ts), which `prepare` writes (`stowage catalog rebuild`, through the driver's
 * `prepareListing`), under the same rule: used only while the folder's times are what they were when the
 * file's listing was read, written only when those times were settled.
 */
import { readFile as readFileCallback, stat as statCallback, type BigIntStats } from 'node:fs';
import { scanFolder } from './folder-scan.js';
import { LazilySortedNames } from './lazily-sorted-names.js';
import { decodeListing, encodeListing, listingFileOf } from './listing-file.js';
import { NamePacker } from './packed-names.js';
import { PageSelection } from './page-selection.js';
import { replaceFile } from './replace-file.js';
import type { SettledTimes } from './settled-times.js';

/** how many names all kept listings hold at most (least recently used listings go first) */
const MAX_KEPT_NAMES = 250_000;

/**
 * A folder this large (its stat's size: on ext4 16 bytes or more a short name, so a few thousand tags) has a
 * listing file worth reading; below it, reading the folder costs about what reading a file does (1,000 tags:
 * under a millisecond) and looking for the file would cost every small folder a failed open.
 */
export const LISTING_FILE_FROM_BYTES = 64 * 1024;

const statBigInt = (path: string): Promise<BigIntStats> =>
  new Promise((resolve, reject) => statCallback(path, { bigint: true }, (err, info) => (err ? reject(err) : resolve(info))));

/** the file's content; undefined when it cannot be read (absent, above all) */
const readIfPresent = (file: string): Promise<Buffer | undefined> => new Promise((resolve) => readFileCallback(file, (err, content) => resolve(err ? undefined : content)));

/** What a folder's listing is known by: the same values, settled, mean the same names. */
type FolderTimes = Pick<BigIntStats, 'dev' | 'ino' | 'mtimeNs' | 'ctimeNs'>;

/** What listings read folders through: the filesystem, or in tests a folder whose times they set. */
export interface FolderAccess {
  /** `size`: the folder's own size in bytes, which grows with its entries */
  stat(folder: string): Promise<FolderTimes & { size: bigint; isDirectory(): boolean }>;
  /** calls `visit` with every name in the folder, in any order (folder-scan.ts) */
  scan(folder: string, visit: (name: string) => void): Promise<void>;
  /** the wall clock, in ms (Date.now) */
  now(): number;
  /** a file's content, undefined when there is none */
  readFile(file: string): Promise<Buffer | undefined>;
  /** replaces a file whole: readers find the old content or the new one */
  replaceFile(file: string, content: Buffer): Promise<void>;
}

/** a listing file need not be durable: one cut short by a crash fails its SHA-256 (listing-file.ts); a folder gone meanwhile needs none */
const replaceUnsynced = async (file: string, content: Buffer): Promise<void> => void (await replaceFile(file, content, false));

export const FILESYSTEM: FolderAccess = { stat: statBigInt, scan: scanFolder, now: () => Date.now(), readFile: readIfPresent, replaceFile: replaceUnsynced };

/** A folder's names in order, however they are held. */
interface SortedNames {
  readonly size: number;
  pageAfter(after: string | undefined, limit: number): NamePage;
  all(): readonly string[];
}

interface KeptListing extends FolderTimes {
  readonly names: SortedNames;
}

interface WholeRead extends FolderTimes {
  readonly listing: Promise<LazilySortedNames>;
}

const sameTimes = (a: FolderTimes, b: FolderTimes): boolean => a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

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
  /** whole reads under way whose listing will be kept, for pages asked for meanwhile to share */
  private readonly reading = new Map<string, WholeRead>();

  /**
   * `settledTimes`: the rule for when the folders' times tell a later change apart, or undefined where
   * their stat may not answer what is stored now (network filesystems): then nothing is kept.
   */
  constructor(
    private readonly settledTimes: () => SettledTimes | undefined,
    private readonly folders: FolderAccess = FILESYSTEM,
    /** the folder size from which listing files are read and written (tests lower it) */
    private readonly listingFileFromBytes: bigint = BigInt(LISTING_FILE_FROM_BYTES),
    /** how many names all kept listings hold at most (tests lower it) */
    private readonly maxKeptNames: number = MAX_KEPT_NAMES,
  ) {}

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
    await this.folders.scan(folder, (name) => {
      if (isObjectName(name)) selection.offer(name);
    });
    return selection.page();
  }

  /**
   * Writes the listing file of a large folder, unless the one there is current: so that the first page in
   * any process sharing the storage reads it rather than the folder. Nothing where listings cannot be kept
   * (a network filesystem), for a small folder, or while the folder's times are not settled (a listing read
   * now could miss a change that leaves them as they are). Rejects as `stat`/`readdir` do.
   */
  async prepare(folder: string): Promise<void> {
    const settledTimes = this.settledTimes();
    if (settledTimes === undefined) return;
    const statedAt = this.folders.now();
    const info = await this.folders.stat(folder);
    if (!info.isDirectory()) throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
    if (info.size < this.listingFileFromBytes || !settledTimes.settled(info, statedAt)) return;
    if (await this.listingFile(folder, info)) return;
    const names = (await this.readNames(folder)).all();
    const content = encodeListing(info, names);
    if (content) await this.folders.replaceFile(listingFileOf(folder), content);
  }

  /** The listing in `folder`'s listing file when it was read under the times `info` shows. */
  private async listingFile(folder: string, info: FolderTimes): Promise<SortedNames | undefined> {
    const content = await this.folders.readFile(listingFileOf(folder));
    return content && decodeListing(content, info);
  }

  /** The folder's kept listing while it is current; otherwise whether what is read now may be kept. */
  private async look(folder: string): Promise<{ kept?: SortedNames; keepable: boolean; info: FolderTimes }> {
    // asked before the stat: finding it out the first time may write a probe file (stamp-probe.ts)
    const settledTimes = this.settledTimes();
    const statedAt = this.folders.now();
    const info = await this.folders.stat(folder);
    if (!info.isDirectory()) throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
    const kept = this.kept.get(folder);
    if (kept) {
      this.forget(folder, kept);
      if (sameTimes(kept, info)) {
        this.keep(folder, kept);
        return { kept: kept.names, keepable: true, info };
      }
    }
    // the file's times, not this stat's, decide whether it may be trusted: written only under settled ones
    if (settledTimes !== undefined && info.size >= this.listingFileFromBytes) {
      const stored = await this.listingFile(folder, info);
      if (stored) {
        this.keepRead(folder, info, stored);
        return { kept: stored, keepable: true, info };
      }
    }
    return { keepable: settledTimes?.settled(info, statedAt) === true, info };
  }

  /**
   * Reads the whole folder (sorted as pages need it), and keeps it when `looked` says it may be; joins a
   * read under way that will be kept under the same times (a change since its stat would show in them).
   */
  private readWhole(folder: string, looked: { keepable: boolean; info: FolderTimes }): Promise<LazilySortedNames> {
    const { info, keepable } = looked;
    if (!keepable) return this.readNames(folder);
    const underWay = this.reading.get(folder);
    if (underWay && sameTimes(underWay, info)) return underWay.listing;
    const read: WholeRead = { dev: info.dev, ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs, listing: this.readNames(folder) };
    this.reading.set(folder, read);
    const settle = (): void => {
      if (this.reading.get(folder) === read) this.reading.delete(folder);
    };
    return read.listing.then(
      (listing) => {
        settle();
        // read after the stat: a change in between makes the kept times older than the folder's, never newer
        this.keepRead(folder, info, listing);
        return listing;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
  }

  private async readNames(folder: string): Promise<LazilySortedNames> {
    const packer = new NamePacker();
    await this.folders.scan(folder, (name) => {
      if (isObjectName(name)) packer.add(name);
    });
    return new LazilySortedNames(packer.packed());
  }

  /** Keeps `names`, read under the times `info` shows. */
  private keepRead(folder: string, info: FolderTimes, names: SortedNames): void {
    this.keep(folder, { dev: info.dev, ino: info.ino, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs, names });
  }

  /** A listing larger than the whole bound is not kept: it would evict every other one, then itself. */
  private keep(folder: string, listing: KeptListing): void {
    const previous = this.kept.get(folder);
    if (previous) this.forget(folder, previous);
    if (listing.names.size > this.maxKeptNames) return;
    this.kept.set(folder, listing);
    this.keptNames += listing.names.size;
    for (const [oldest, old] of this.kept) {
      if (this.keptNames <= this.maxKeptNames) break;
      this.forget(oldest, old);
    }
  }

  private forget(folder: string, listing: KeptListing): void {
    this.kept.delete(folder);
    this.keptNames -= listing.names.size;
  }
}
