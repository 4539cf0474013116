/**
 * Directory listings without secondary indexes (gone from Elliptics 3.0).
 *
 * Each directory has a listing object, key `dir:<path>`, holding a journal of lines `+name` / `-name`. Lines
 * are added with WRITE io-flag APPEND, which the server applies atomically, so writers on several registry
 * processes never overwrite each other's entries. Folding the journal in order gives the children.
 *
 * A put adds its name to the parent journal, then the parent's name to the grandparent's and so on, bottom
 * up. A delete appends `-name` to the parent and prunes upwards: a directory whose journal folds to nothing
 * is removed from its own parent, and re-checked afterwards; if a concurrent put re-filled it meanwhile,
 * `+name` is appended again. Because puts append bottom-up, every interleaving ends with the entry present
 * when the directory has a child. See docs/elliptics.md for the trade-offs.
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
  /** "this process appended (dir, name) lately": saves re-appending the upper levels on every put */
  private readonly recent = new Map<string, number>();

  constructor(
    private readonly client: EllipticsClient,
    private readonly objects: ObjectStore,
    private readonly idOf: (dir: string) => Buffer,
    private readonly clock: { now(): { tsec: number; tnsec: number } },
    private readonly recentTtlMs: number,
  ) {}

  /** Records that `path` exists: its name in its parent, and every ancestor in its own parent. */
  async added(path: string): Promise<void> {
    let child = path;
    let first = true;
    while (child !== ROOT) {
      const dir = parentOf(child);
      const name = baseName(child);
      // The direct parent is always appended to; upper levels are skipped when this process just did it.
      if (first || !this.isRecent(dir, name)) {
        await this.append(dir, `+${name}\n`);
        this.remember(dir, name);
      }
      first = false;
      child = dir;
    }
  }

  /** Records that `path` (file or whole directory) is gone, pruning ancestors left empty. */
  async removed(path: string): Promise<void> {
    let child = path;
    while (child !== ROOT) {
      const dir = parentOf(child);
      const name = baseName(child);
      this.recent.delete(`${dir}\0${name}`);
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
    const id = this.idOf(dir);
    const replica = await this.client.newest(id);
    if (!replica || replica.size === 0) return [];
    const journal = (await this.objects.readAll(id, replica)).toString('utf8');
    const present = new Set<string>();
    for (const line of journal.split('\n')) {
      if (line.startsWith('+')) present.add(line.slice(1));
      else if (line.startsWith('-')) present.delete(line.slice(1));
    }
    return [...present].sort();
  }

  /** Drops the journal of a directory that was deleted as a whole. */
  async drop(dir: string): Promise<void> {
    for (const key of this.recent.keys()) if (key.startsWith(`${dir}\0`) || key.startsWith(`${dir}/`)) this.recent.delete(key);
    await this.client.removeQuorum(this.idOf(dir));
  }

  private async append(dir: string, line: string): Promise<void> {
    await this.client.writeQuorum(this.idOf(dir), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, Buffer.from(line, 'utf8'));
  }

  private isRecent(dir: string, name: string): boolean {
    const until = this.recent.get(`${dir}\0${name}`);
    return until !== undefined && until > Date.now();
  }

  private remember(dir: string, name: string): void {
    this.recent.set(`${dir}\0${name}`, Date.now() + this.recentTtlMs);
  }
}
