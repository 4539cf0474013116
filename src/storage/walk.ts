/**
 * The walk every driver gets when it has none of its own: depth first, children in lexical order,
 * built from `list` and `stat` alone.
 */
import type { StorageDriver, WalkFn, WalkOptions } from './driver.js';

type Listing = Pick<StorageDriver, 'list' | 'stat'>;

/** Plain code-unit order, so the order is the same on every machine (no locale collation). */
export const lexicalOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Calls `fn` for every entry below `path` (not for `path` itself). A directory is reported before its
 * contents; `'skipDir'` keeps the walk out of it, `'stop'` ends the whole walk.
 */
export async function walkFromListing(driver: Listing, path: string, fn: WalkFn, options: WalkOptions = {}, signal?: AbortSignal): Promise<void> {
  await walkDirectory(driver, path, fn, options.startAfter, signal);
}

/** Resolves to true when the callback asked to stop. */
async function walkDirectory(driver: Listing, dir: string, fn: WalkFn, startAfter: string | undefined, signal: AbortSignal | undefined): Promise<boolean> {
  const children = (await driver.list(dir, signal)).sort(lexicalOrder);
  for (const child of children) {
    // An entry at or before startAfter was seen by an earlier walk, unless startAfter lies inside it.
    const containsStartAfter = startAfter !== undefined && startAfter.startsWith(`${child}/`);
    if (startAfter !== undefined && child <= startAfter && !containsStartAfter) continue;

    const info = await driver.stat(child, signal);
    if (!containsStartAfter) {
      const control = await fn(info);
      if (control === 'stop') return true;
      if (control === 'skipDir') continue;
    }
    if (info.isDir && (await walkDirectory(driver, child, fn, containsStartAfter ? startAfter : undefined, signal))) return true;
  }
  return false;
}
