/**
 * Directory listings without secondary indexes (gone from Elliptics 3.0).
 *
 * Each directory has a listing object, key `dir:<path>`, holding a journal of lines `+name` / `-name`. Lines
 * are added with WRITE io-flag APPEND, which the server applies atomically, so writers on several registry
 * processes never overwrite each other's entries. Folding the journal in order gives the children.
 *
 * Invariant: a directory that has a child is listed in its parent. A put appends `+name` to its directory's
 * journal and reads it back. The put whose line turned the directory from empty to non-empty (the last such
 * line in the journal) lists the directory in its parent, and so on up; every other put is done. A delete
 * appends `-name` to the parent; if the parent now folds to nothing, it is removed from its own parent, then
 * re-read, and if a concurrent put filled it meanwhile, `+name` is appended again. Every interleaving of puts
 * and deletes ends with the entry listed when the directory has a child. See docs/elliptics.md.
 */
import type { EllipticsClient } from './protocol/client.js';
import type { ObjectStore } from './objects.js';
import { IoFlags } from './protocol/constants.js';

const ROOT = '/';

export const parentOf = (path: string): string => {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT : path.slice(0, i);
};
export const baseName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
export const childPath = (dir: string, name: string): string => (dir === ROOT ? `/${name}` : `${dir}/${name}`);

export class DirectoryIndex {
  constructor(
    private readonly client: EllipticsClient,
    private readonly objects: ObjectStore,
    private readonly idOf: (dir: string) => Buffer,
    private readonly clock: { now(): { tsec: number; tnsec: number } },
  ) {}

  /** Records that `path` exists: its name in its parent, and each newly non-empty ancestor in its own parent. */
  async added(path: string): Promise<void> {
    let child = path;
    while (child !== ROOT) {
      const dir = parentOf(child);
      const name = baseName(child);
      await this.append(dir, `+${name}\n`);
      if (dir === ROOT) return;
      if ((await this.fold(dir)).filledBy !== name) return;
      child = dir;
    }
  }

  /** Records that `path` (file or whole directory) is gone, pruning ancestors left empty. */
  async removed(path: string): Promise<void> {
    let child = path;
    while (child !== ROOT) {
      const dir = parentOf(child);
      const name = baseName(child);
      await this.append(dir, `-${name}\n`);
      const stillThere = await this.children(child).then((c) => c.length > 0, () => false);
      if (stillThere && child !== path) {
        // A concurrent put filled the directory again while it was being pruned.
        await this.append(dir, `+${name}\n`);
        return;
      }
      if (dir === ROOT || (await this.children(dir)).length > 0) return;
      child = dir;
    }
  }

  /** Names of the direct children of `dir`, from the newest replica of its journal. */
  async children(dir: string): Promise<string[]> {
    return [...(await this.fold(dir)).present].sort();
  }

  /** The journal folded: who is present, and which name last turned the directory from empty to non-empty. */
  private async fold(dir: string): Promise<{ present: Set<string>; filledBy?: string }> {
    const id = this.idOf(dir);
    const replica = await this.client.newest(id);
    const present = new Set<string>();
    if (!replica || replica.size === 0) return { present };
    const journal = (await this.objects.readAll(id, replica)).toString('utf8');
    let filledBy: string | undefined;
    for (const line of journal.split('\n')) {
      const name = line.slice(1);
      if (line.startsWith('+')) {
        if (present.size === 0) filledBy = name;
        present.add(name);
      } else if (line.startsWith('-')) {
        present.delete(name);
      }
    }
    return { present, filledBy };
  }

  /** Drops the journal of a directory that was deleted as a whole. */
  async drop(dir: string): Promise<void> {
    await this.client.removeQuorum(this.idOf(dir));
  }

  private async append(dir: string, line: string): Promise<void> {
    await this.client.writeQuorum(this.idOf(dir), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, Buffer.from(line, 'utf8'));
  }
}
