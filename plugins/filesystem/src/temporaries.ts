/**
 * Temporaries (`<name>~<12 hex>.tmp`): files of `putContent`, renamed over the object once written and
 * synced; folders `putContent` builds before renaming them into place; folders `delete` renamed aside
 * before removing them. A process killed part-way leaves one behind; nothing else ever removes it, so
 * upload purging asks for those older than its age (see `purgeTemporaries` in stowage's driver contract).
 */
import { randomBytes } from 'node:crypto';
import { opendir, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const TEMPORARY_NAME = /~[0-9a-f]{12}\.tmp$/;

/**
 * Names come from a counter that starts at a random point in each process: unique in the process, and two
 * processes sharing the storage would have to reach the same number on the same path at the same moment. A
 * fresh random number per name cost a call into the system's generator on every write (2 % of a manifest
 * push's main-thread time, three or four names per push).
 */
const NAME_SPACE = 2 ** 48;
let lastTemporary = randomBytes(6).readUIntBE(0, 6);

export function temporaryPathOf(file: string): string {
  lastTemporary = (lastTemporary + 1) % NAME_SPACE;
  return `${file}~${lastTemporary.toString(16).padStart(12, '0')}.tmp`;
}

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
      const temporary = (entry.isFile() || entry.isDirectory()) && TEMPORARY_NAME.test(entry.name);
      if (temporary && (await modifiedBefore(full, olderThan))) {
        if (!dryRun) await rm(full, { recursive: true, force: true });
        removed.push(`/${relative(root, full).split(sep).join('/')}`);
      } else if (entry.isDirectory() && !temporary) folders.push(full);
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
