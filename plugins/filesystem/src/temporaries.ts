/**
 * Temporary files of `putContent` (`<file>~<12 hex>.tmp`, renamed over the object once written and synced).
 * A process killed between the write and the rename leaves one behind; nothing else ever removes it, so
 * upload purging asks for those older than its age (see `purgeTemporaries` in stowage's driver contract).
 */
import { randomBytes } from 'node:crypto';
import { opendir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const TEMPORARY_NAME = /~[0-9a-f]{12}\.tmp$/;

export const temporaryPathOf = (file: string): string => `${file}~${randomBytes(6).toString('hex')}.tmp`;

/**
 * Walks `root` one directory at a time (memory stays flat however large the tree) and removes the
 * temporary files last modified before `olderThan`; answers their paths relative to the root, `/`-rooted.
 */
export async function purgeTemporaryFiles(root: string, olderThan: Date, dryRun: boolean, signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    signal?.throwIfAborted();
    let entries;
    try {
      entries = await opendir(dir);
    } catch (err) {
      // a folder deleted while the walk runs (a blob or repository removed) has nothing left to purge
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    const folders: string[] = [];
    for await (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) folders.push(full);
      else if (entry.isFile() && TEMPORARY_NAME.test(entry.name) && (await modifiedBefore(full, olderThan))) {
        if (!dryRun) await rm(full, { force: true });
        removed.push(`/${relative(root, full).split(sep).join('/')}`);
      }
    }
    for (const folder of folders) await visit(folder);
  };
  await visit(root);
  return removed;
}

async function modifiedBefore(file: string, olderThan: Date): Promise<boolean> {
  try {
    return (await stat(file)).mtime.getTime() < olderThan.getTime();
  } catch {
    // renamed into place or removed since the listing: not a leftover
    return false;
  }
}
