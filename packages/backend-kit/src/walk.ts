/**
 * Depth-first, lexically ordered walk built on one listing per directory (which already carries each
 * file's size and time), instead of the list + stat per entry stowage would fall back to.
 */
import type { FileInfo, WalkFn, WalkOptions } from 'stowage';

/** Direct children of a directory, files with their size and time; throws PATH_NOT_FOUND when there is none. */
export type ListDirectory = (path: string) => Promise<FileInfo[]>;

export async function walkTree(root: string, list: ListDirectory, fn: WalkFn, options?: WalkOptions): Promise<void> {
  const startAfter = options?.startAfter;
  const visit = async (directory: string): Promise<boolean> => {
    const entries = (await list(directory)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const entry of entries) {
      const holdsStart = entry.isDir && startAfter !== undefined && startAfter.startsWith(entry.path + '/');
      if (startAfter !== undefined && entry.path <= startAfter && !holdsStart) continue;
      const control = holdsStart ? undefined : await fn(entry);
      if (control === 'stop') return true;
      if (entry.isDir && control !== 'skipDir' && (await visit(entry.path))) return true;
    }
    return false;
  };
  await visit(root);
}
