/**
 * Directory listings without secondary indexes (gone from Elliptics 3.0).
 *
 * Each directory has a listing object, key `dir:<path>`, holding a journal of lines `+name` / `-name`. Lines
 * are added with WRITE io-flag APPEND, which the server applies atomically, so writers on several registry
 * processes never overwrite each other's entries. Folding the journal in order gives the children.
 *
 * Invariant: a directory that has a child is listed in its parent. A put appends `+name` to its directory's
 * journal and reads it back. The put whose line turned the directory from empty to non-empty (the last such
 * line in the journal, in any group's copy: see `filled`) lists the directory in its parent, and so on up;
 * every other put is done. A delete appends `-name` to the parent; if the parent now folds to nothing, it is
 * removed from its own parent, then re-read, and if a concurrent put filled it meanwhile, `+name` is appended
 * again. Every interleaving of puts and deletes ends with the entry listed when the directory has a child.
 * See docs/elliptics.md.
 *
 * Compaction: a delete that leaves a journal with more than twice the lines its live entries need (and at
 * least COMPACT_MIN_LINES), or leaves its directory empty, rewrites it with those lines only, in one WRITE with compare-and-swap against the bytes it folded (elliptics
 * library/dnet.c dnet_cas_local: the server refuses with -EBADFD if an APPEND landed meanwhile, and the
 * journal stays as it was). The rewrite folds to exactly what the journal folded to, the same children and
 * the same `filledBy`, so no reader or writer can tell, and an entry appended concurrently is never lost.
 */
import { casParent, type EllipticsClient, newer } from './protocol/client.js';
import type { ObjectStore, WholeRecord } from './objects.js';
import { IoFlags } from './protocol/constants.js';

/** A journal shorter than this is never rewritten (a rewrite costs a WRITE; a short journal costs little). */
const COMPACT_MIN_LINES = 16;
/**
 * How many appends to one directory may be in flight at once, from all processes together: a put whose line is
 * further than this from the fill cannot have reached any group before it (see `DirectoryIndex.filled`).
 */
const MAX_REORDERED_APPENDS = 1024;

/** A journal folded: who is present, which name last turned it from empty to non-empty, and what was read. */
interface Folded {
  present: Set<string>;
  /** every name the journal ever added, present or not (what a delete of the directory looks for) */
  everListed: Set<string>;
  filledBy?: string;
  /** the fill's place among the journal's lines */
  filledAt?: number;
  /** the place of the watched name's last `+` line, when `fold` was given one and the journal has it */
  watchedAt?: number;
  lines: number;
  /** the bytes folded, one version read whole, and its time */
  journal?: WholeRecord;
}

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
      if (!(await this.filled(dir, name))) return;
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
      const folded = await this.fold(dir);
      await this.compact(dir, folded);
      const stillThere = await this.children(child).then((c) => c.length > 0, () => false);
      if (stillThere && child !== path) {
        // A concurrent put filled the directory again while it was being pruned.
        await this.append(dir, `+${name}\n`);
        return;
      }
      if (dir === ROOT || folded.present.size > 0) return;
      child = dir;
    }
  }

  /**
   * Whether the put of `name` turned `dir` from empty to non-empty, and so lists it in its parent. Appends of
   * several processes can reach the groups in different orders (each group applies them as they arrive), so
   * the copy one put folds and the copy another folds may name different fillers, and then neither lists the
   * directory. A put whose own line came within MAX_REORDERED_APPENDS lines of the fill, in the copy it folded
   * (or is missing from it), therefore also folds every group's own copy and fills when any of them names it.
   * Two puts may both list the directory: a second `+name` in the parent folds the same.
   */
  private async filled(dir: string, name: string): Promise<boolean> {
    const folded = await this.fold(dir, name);
    if (folded.filledBy === name) return true;
    if (!mayBeReordered(folded)) return false;
    const copies = await this.objects.readWholeInEachGroup(this.idOf(dir));
    return copies.some((copy) => copy.ok && copy.value !== undefined && foldJournal(copy.value.bytes.toString('utf8')).filledBy === name);
  }

  /**
   * Lists `dir` in its parent again while it has children and its parent does not list it, and so on up to
   * the first ancestor listed: what finishing a delete cut short needs. A delete that emptied a directory
   * takes it out of its parent, and puts it back when a concurrent put filled it meanwhile (`removed`); a
   * process killed between the two leaves a directory with children that no listing names, and the puts
   * into it after never list it again (it is not empty, so none of them fills it).
   */
  async relist(dir: string): Promise<void> {
    let child = dir;
    while (child !== ROOT) {
      const parent = parentOf(child);
      if ((await this.children(child)).length === 0 || (await this.lists(parent, baseName(child)))) return;
      await this.append(parent, `+${baseName(child)}\n`);
      child = parent;
    }
  }

  /** Names of the direct children of `dir`, from the newest replica of its journal. */
  async children(dir: string): Promise<string[]> {
    return [...(await this.fold(dir)).present].sort();
  }

  /** The children of `dir` listed now, and every name its journal ever added (see `foldJournal`). */
  async names(dir: string): Promise<{ present: string[]; everListed: string[] }> {
    const { present, everListed } = await this.fold(dir);
    return { present: [...present].sort(), everListed: [...everListed].sort() };
  }

  /** Whether the journal of `dir` lists `name` now. */
  async lists(dir: string, name: string): Promise<boolean> {
    return (await this.fold(dir)).present.has(name);
  }

  /**
   * Takes `names` out of the listing of `dir` in one APPEND, leaving the directory's journal folding to
   * nothing while its objects are still there: what a delete does to each directory it is about to remove,
   * so that the next put below a directory a crash left behind lists it in its parent again (its journal
   * says it was empty), and the names stay in the journal for the delete that finishes the job.
   */
  async unlist(dir: string, names: readonly string[]): Promise<void> {
    if (names.length > 0) await this.append(dir, names.map((name) => `-${name}\n`).join(''));
  }

  /** The journal folded: who is present, and which name last turned the directory from empty to non-empty. */
  private async fold(dir: string, watched?: string): Promise<Folded> {
    const id = this.idOf(dir);
    const replica = await this.client.newest(id);
    // every group holds the newest version after every whole append, so only a group left behind is read more
    const whole = replica && !this.client.heldByEveryGroup(replica);
    const read = whole ? await this.evenOut(id) : replica && replica.size > 0 ? await this.objects.readWhole(id, replica) : undefined;
    if (!replica || !read || read.bytes.length === 0) return { present: new Set(), everListed: new Set(), lines: 0 };
    return { ...foldJournal(read.bytes.toString('utf8'), watched), journal: { bytes: read.bytes, mtime: read.mtime } };
  }

  /**
   * The journal of a directory whose groups disagree, made the same in every group where that is safe.
   * A process killed between the groups' appends leaves a line in some groups only; every later append
   * reaches all of them with the same time, and readers then fold whichever group comes first among equals,
   * the one missing the line it may be: a directory that stays listed nowhere (its put reached the parent in
   * one group), or a name back after its delete. Among the copies of the newest time, the one that holds
   * every other as a subsequence of its lines is what all of them missed parts of: the others are rewritten
   * to it (compare-and-swap against what was read, so an append landing meanwhile wins) and it is folded.
   * Copies of an older time may be an append still on its way, and are left to it; so are copies that each
   * hold lines the other lacks (appends of two processes that reached the groups in different orders).
   */
  private async evenOut(id: Buffer): Promise<WholeRecord | undefined> {
    const read = await this.objects.readWholeInEachGroup(id);
    const copies = read.flatMap((r) => (r.ok && r.value ? [{ groupId: r.groupId, ...r.value }] : []));
    const newestTime = copies.reduce<WholeRecord['mtime'] | undefined>((best, c) => (!best || newer(c.mtime, best) ? c.mtime : best), undefined);
    if (!newestTime) return undefined;
    const current = copies.filter((c) => c.mtime.tsec === newestTime.tsec && c.mtime.tnsec === newestTime.tnsec);
    const longest = current.reduce((a, b) => (b.bytes.length > a.bytes.length ? b : a));
    const fullLines = longest.bytes.toString('utf8').split('\n');
    if (!current.every((c) => isSubsequence(c.bytes.toString('utf8').split('\n'), fullLines))) return current[0];
    await Promise.all(
      current
        .filter((c) => !c.bytes.equals(longest.bytes))
        .map((c) => {
          return this.client.write(c.groupId, id, { ioFlags: IoFlags.CAS, offset: 0, num: 0, parent: casParent(c.bytes), ...newestTime }, longest.bytes).catch(() => undefined);
        }),
    );
    return longest;
  }

  /**
   * Rewrites the journal of `dir` with its live lines when it holds more than twice as many (see the module
   * comment). Best effort: a refused or failed rewrite leaves the journal as it was, still correct.
   */
  private async compact(dir: string, folded: Folded): Promise<void> {
    const compacted = compactedLines(folded);
    // an emptied directory's journal is all waste, so it is cut down whatever its length
    const worth = folded.present.size === 0 ? folded.lines > compacted.length : folded.lines >= COMPACT_MIN_LINES && folded.lines > 2 * compacted.length;
    if (!folded.journal || !worth) return;
    const parent = casParent(folded.journal.bytes);
    const body = Buffer.from(compacted.map((line) => `${line}\n`).join(''), 'utf8');
    // The directory's time stays what it was: the rewrite changes no entry.
    const { tsec, tnsec } = folded.journal.mtime;
    await this.client.eachGroup((g) => this.client.write(g, this.idOf(dir), { ioFlags: IoFlags.CAS, offset: 0, num: 0, parent, tsec, tnsec }, body));
  }

  /** Drops the journal of a directory that was deleted as a whole. */
  async drop(dir: string): Promise<void> {
    await this.client.removeQuorum(this.idOf(dir));
  }

  private async append(dir: string, line: string): Promise<void> {
    await this.client.writeQuorum(this.idOf(dir), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, ...this.clock.now() }, Buffer.from(line, 'utf8'));
  }
}

/**
 * Folds journal text in order: `+name` adds, `-name` removes; `filledBy` is the last name added to an empty
 * set; `everListed` every name added (a compaction keeps only the live ones and the filler).
 */
export function foldJournal(
  journal: string,
  watched?: string,
): { present: Set<string>; everListed: Set<string>; filledBy?: string; filledAt?: number; watchedAt?: number; lines: number } {
  const present = new Set<string>();
  const everListed = new Set<string>();
  let filledBy: string | undefined;
  let filledAt: number | undefined;
  let watchedAt: number | undefined;
  let lines = 0;
  for (const line of journal.split('\n')) {
    const name = line.slice(1);
    if (line.startsWith('+')) {
      if (present.size === 0) {
        filledBy = name;
        filledAt = lines;
      }
      if (name === watched) watchedAt = lines;
      present.add(name);
      everListed.add(name);
      lines++;
    } else if (line.startsWith('-')) {
      present.delete(name);
      lines++;
    }
  }
  return { present, everListed, filledBy, filledAt, watchedAt, lines };
}

/**
 * Whether the watched name's newest `+` line may have reached another group's copy before the fill `folded`
 * shows: it is missing from the journal folded, or among the MAX_REORDERED_APPENDS lines after the fill.
 */
function mayBeReordered(folded: Folded): boolean {
  if (folded.filledAt === undefined || folded.watchedAt === undefined) return true;
  return folded.watchedAt - folded.filledAt <= MAX_REORDERED_APPENDS;
}

/**
 * The shortest journal that folds to the same children and the same `filledBy`: the filler first, the other
 * live names after it, and the filler's removal last when it is gone (so the set never empties before it).
 */
export function compactedLines(folded: { present: ReadonlySet<string>; filledBy?: string }): string[] {
  const { present, filledBy } = folded;
  if (filledBy === undefined) return [...present].map((name) => `+${name}`);
  const others = [...present].filter((name) => name !== filledBy).map((name) => `+${name}`);
  return [`+${filledBy}`, ...others, ...(present.has(filledBy) ? [] : [`-${filledBy}`])];
}

/** Whether `part` is `whole` with some lines left out (in the same order). */
function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let at = 0;
  for (const line of whole) if (at < part.length && part[at] === line) at++;
  return at === part.length;
}
