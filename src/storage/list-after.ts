/**
 * `listAfter` for a driver that has none: one `list`, sorted, cut. It costs what the folder holds, not what
 * the page shows; a driver that can start a listing after a name (an object store's marker) or keep a
 * sorted listing while the folder is unchanged (the filesystem driver) implements its own.
 */
import type { ListedPage, StorageDriver } from './driver.js';
import { lexicalOrder } from './walk.js';

export async function listAfterFromListing(driver: Pick<StorageDriver, 'list'>, path: string, after: string | undefined, limit: number, signal?: AbortSignal): Promise<ListedPage> {
  const prefix = path === '/' ? '/' : `${path}/`;
  const names = (await driver.list(path, signal))
    .map((child) => child.slice(prefix.length))
    .filter((name) => after === undefined || name > after)
    .sort(lexicalOrder);
  return pageOf(prefix, names, 0, limit);
}

/** `limit` names of `sortedNames` from `start`, as full paths under `prefix` (`/`-terminated). */
export function pageOf(prefix: string, sortedNames: readonly string[], start: number, limit: number): ListedPage {
  const end = Math.min(sortedNames.length, start + Math.max(0, limit));
  const children: string[] = [];
  for (let i = start; i < end; i++) children.push(prefix + sortedNames[i]);
  return { children, more: end < sortedNames.length };
}
