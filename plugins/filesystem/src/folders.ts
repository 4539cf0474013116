/** Where a new object's folders begin: shared by single puts (driver.ts) and ordered ones (ordered-puts.ts). */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The outermost folder on the way from `root` to `folder` that does not exist (`folder` itself when only
 * it is missing), or undefined when `folder` exists.
 */
export function firstMissingFolder(folder: string, root: string, known?: Map<string, string | undefined>): string | undefined {
  let missing: string | undefined;
  const walked: string[] = [];
  let found: string | undefined;
  for (let current = folder; ; current = dirname(current)) {
    // `known`: answers for folders of the same call (a folder below a missing one has the same answer)
    if (known?.has(current)) {
      found = known.get(current) ?? missing;
      break;
    }
    if (statSync(current, { throwIfNoEntry: false })) {
      found = missing;
      known?.set(current, undefined);
      break;
    }
    walked.push(current);
    missing = current;
    // the root itself is made like any folder (a fresh storage folder)
    if (current === root || dirname(current) === current) {
      found = missing;
      break;
    }
  }
  for (const folder of walked) known?.set(folder, found);
  return found;
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
