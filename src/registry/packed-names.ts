/**
 * A large sorted list of names (the catalog index's base: every repository, 100,000 or more) kept as the one
 * string it was read as, with the offset of each name, instead of an array of one string per name.
 *
 * Why: splitting a 100,000-line base made 100,000 strings on the first page after it changed (about half of
 * that page's 25-50 ms of CPU), and the collector then traced them on every full collection for as long as
 * the base stayed current. One string and one `Uint32Array` are two objects whatever the size; a page reads
 * the few names it shows by offset (docs/bench.md, "Catalog and tag pages: the mean").
 */
import { lexical } from './pagination.js';

const NEWLINE = 10;
const SLASH = 47;

/** Compares `a[aFrom, aTo)` with `b[bFrom, bTo)` by code unit, as `<` does on strings, without making a string. */
function compareRanges(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): number {
  const length = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < length; i++) {
    const difference = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i);
    if (difference !== 0) return difference;
  }
  return aTo - aFrom - (bTo - bFrom);
}

/** Compares `text[from, to)` with `name`. */
const compareSlice = (text: string, from: number, to: number, name: string): number => compareRanges(text, from, to, name, 0, name.length);

export class PackedNames {
  /**
   * `starts[i]` is where name `i` begins in `text`, `ends[i]` where it ends; both ascending. Names are in
   * strictly increasing code-unit order.
   */
  private constructor(
    private readonly text: string,
    private readonly starts: Uint32Array,
    private readonly ends: Uint32Array,
  ) {}

  /**
   * The names of `text`, one a line (empty lines skipped). stowage writes them sorted and once each; a text
   * edited or cut short by hand is put in order rather than trusted, since every lookup's binary search
   * relies on it.
   */
  static fromLines(text: string): PackedNames {
    let count = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) count++;
    const starts = new Uint32Array(count + 1);
    const ends = new Uint32Array(count + 1);
    let names = 0;
    let ordered = true;
    let from = 0;
    while (from <= text.length) {
      let to = text.indexOf('\n', from);
      if (to === -1) to = text.length;
      if (to > from) {
        if (names > 0 && ordered && compareRanges(text, starts[names - 1]!, ends[names - 1]!, text, from, to) >= 0) ordered = false;
        starts[names] = from;
        ends[names] = to;
        names++;
      }
      from = to + 1;
    }
    if (!ordered) return PackedNames.fromNames([...new Set(text.split('\n').filter((line) => line !== ''))].sort(lexical));
    return new PackedNames(text, starts.subarray(0, names), ends.subarray(0, names));
  }

  /** `names`: sorted by code unit, each once, none empty or holding a line break. */
  static fromNames(names: readonly string[]): PackedNames {
    const starts = new Uint32Array(names.length);
    const ends = new Uint32Array(names.length);
    let offset = 0;
    names.forEach((name, i) => {
      starts[i] = offset;
      ends[i] = offset + name.length;
      offset += name.length + 1;
    });
    return new PackedNames(names.join('\n'), starts, ends);
  }

  get size(): number {
    return this.starts.length;
  }

  /** Name `index` (undefined past the end). */
  at(index: number): string | undefined {
    return index < this.starts.length ? this.text.slice(this.starts[index], this.ends[index]) : undefined;
  }

  /** The first index holding a name after `last` (0 when undefined). */
  firstAfter(last: string | undefined): number {
    if (last === undefined) return 0;
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareSlice(this.text, this.starts[middle]!, this.ends[middle]!, last) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Whether some name sorts below `name/`: a repository nested in `name`'s folder. */
  hasBelow(name: string): boolean {
    const prefix = `${name}/`;
    return this.has(prefix) || (this.at(this.firstAfter(prefix))?.startsWith(prefix) ?? false);
  }

  /**
   * Whether some name sorts below name `index` (a repository nested in its folder), by a look at the name
   * after it when that settles it: the names starting with name `index` follow it at once, so the next name
   * either starts with it + `/` (yes), does not start with it at all (no), or is a sibling such as `x-y` or
   * `x.y` (`-` and `.` sort before `/`), and only then is the answer searched for.
   */
  hasBelowAt(index: number): boolean {
    const next = index + 1;
    if (next >= this.starts.length) return false;
    const start = this.starts[index]!;
    const end = this.ends[index]!;
    const nextStart = this.starts[next]!;
    const length = end - start;
    if (this.ends[next]! - nextStart <= length || compareRanges(this.text, nextStart, nextStart + length, this.text, start, end) !== 0) return false;
    return this.text.charCodeAt(nextStart + length) === SLASH || this.hasBelow(this.text.slice(start, end));
  }

  /** Whether `name` is one of the names. */
  has(name: string): boolean {
    const index = this.firstAfter(name) - 1;
    return index >= 0 && compareSlice(this.text, this.starts[index]!, this.ends[index]!, name) === 0;
  }
}
