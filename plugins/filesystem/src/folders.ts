/** Where a new object's folders begin: shared by single puts (driver.ts) and ordered ones (ordered-puts.ts). */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The outermost folder on the way from `root` to `folder` that does not exist (`folder` itself when only
 * it is missing), or undefined when `folder` exists.
 */
export function firstMissingFolder(folder: string, root: string): string | undefined {
  let missing: string | undefined;
  for (let current = folder; ; current = dirname(current)) {
    if (statSync(current, { throwIfNoEntry: false })) return missing;
    missing = current;
    // the root itself is made like any folder (a fresh storage folder)
    if (current === root || dirname(current) === current) return missing;
  }
}

/** `folder` and every folder above it up to `top`, both included (`folder` is `top` or below it). */
export function foldersFrom(folder: string, top: string): string[] {
  const folders = [folder];
  for (let current = folder; current !== top && dirname(current) !== current; ) {
    current = dirname(current);
    folders.push(current);
  }
  return folders;
}
