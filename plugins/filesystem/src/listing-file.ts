/**
 * A large folder's sorted listing stored beside it (`<folder>~listing`; a `~` name is never an object, so no
 * listing shows it), for the first page in a process that has not read the folder yet: reading 100,000 tag
 * names from the folder costs 35-50 ms of CPU with the machine to itself (half of it the kernel's hashed
 * readdir), reading them from one file and searching it a few (docs/bench.md, "Tag pages, tenth pass").
 *
 * The file names the folder's device, inode and change and modification times (in ns) as a stat taken
 * before the folder was read showed them, and is trusted only while a stat of the folder shows the same: a
 * tag added or removed by any process on the same filesystem (stowage, registry:2, a restore) moves the
 * folder's times, and a folder made again is another inode. It is written only when those times were
 * settled when that stat was taken (settled-times.ts: the racy case, a change within the clock's tick of the
 * stat, would leave the same times), and only on a local filesystem. A SHA-256 of the names guards against
 * a file a crash left cut short (it is renamed into place unsynced: it is a cache, never the only copy).
 */
import { createHash } from 'node:crypto';
import { SortedLines } from './sorted-lines.js';

export const LISTING_FILE_SUFFIX = '~listing';

export const listingFileOf = (folder: string): string => folder + LISTING_FILE_SUFFIX;

const MAGIC = 'stowage-sorted-listing-1';

/** What a listing is known by: the folder's stat before it was read. */
export interface ListedTimes {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}

const stampOf = (times: ListedTimes): string => `${times.dev} ${times.ino} ${times.mtimeNs} ${times.ctimeNs}`;

const digestOf = (body: string): string => createHash('sha256').update(body).digest('hex');

/**
 * The file for `names` (sorted by code unit, distinct) read under `times`; undefined when a name holds a line
 * break (no storage path does, but a folder's names are whatever was put there).
 */
export function encodeListing(times: ListedTimes, names: readonly string[]): Buffer | undefined {
  if (names.some((name) => name.includes('\n'))) return undefined;
  const body = names.length === 0 ? '' : `${names.join('\n')}\n`;
  return Buffer.from(`${MAGIC} ${stampOf(times)} ${names.length} ${digestOf(body)}\n${body}`);
}

/** The listing `content` holds when it was read under `times` and is whole; undefined otherwise. */
export function decodeListing(content: Buffer, times: ListedTimes): SortedLines | undefined {
  const headerEnd = content.indexOf(10);
  if (headerEnd === -1) return undefined;
  const header = content.toString('latin1', 0, headerEnd);
  const expected = `${MAGIC} ${stampOf(times)} `;
  // another folder's times, or this folder's before a change: stale, and not worth hashing
  if (!header.startsWith(expected)) return undefined;
  const [count, digest, ...rest] = header.slice(expected.length).split(' ');
  const size = Number(count);
  if (rest.length !== 0 || !Number.isSafeInteger(size) || size < 0 || digest === undefined) return undefined;
  const body = content.toString('utf8', headerEnd + 1);
  if (digestOf(body) !== digest) return undefined;
  return new SortedLines(body, size);
}
