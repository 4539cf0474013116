/**
 * A large sorted list of names (the catalog index's base: every repository, 100,000 or more) kept as the one
 * string it was read as, one name a line, and searched in place: a name is known by where its line starts.
 *
 * Why: splitting a 100,000-line base made 100,000 strings on the first page after it changed, and the
 * collector then traced them on every full collection for as long as the base stayed current. An array of
 * line offsets instead still cost a pass over every line on that first page (two passes, 6 ms hot and
 * 15-40 ms in code not optimised yet, with the order check), which a page of 100 does not need: a binary
 * search over the text's positions finds a line by stepping back to the line break before the middle
 * (docs/bench.md, "Catalog pages, seventh pass"). Text stowage wrote, whose order its writer vouches for
 * (`fromSortedLines`), is used as read; other text is checked once and put in order when it is not.
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

/** Whether `text` is names in strictly increasing code-unit order, one a line, without blank lines or a line break at the end. */
function isCanonical(text: string): boolean {
  if (text === '') return true;
  let previousStart = -1;
  let previousEnd = -1;
  let from = 0;
  for (;;) {
    let to = text.indexOf('\n', from);
    if (to === -1) to = text.length;
    if (to === from) return false;
    if (previousStart !== -1 && compareRanges(text, previousStart, previousEnd, text, from, to) >= 0) return false;
    if (to === text.length) return true;
    previousStart = from;
    previousEnd = to;
    from = to + 1;
  }
}

export class SortedNameText {
  /** `text`: names in strictly increasing code-unit order, joined by line breaks ('' for none). */
  private constructor(private readonly text: string) {}

  /**
   * The names of `text`, one a line (blank lines skipped), as anyone may have written them: a text edited or
   * cut short by hand is put in order rather than trusted, since every lookup's binary search relies on it.
   */
  static fromLines(text: string): SortedNameText {
    if (isCanonical(text)) return new SortedNameText(text);
    return SortedNameText.fromNames([...new Set(text.split('\n').filter((line) => line !== ''))].sort(lexical));
  }

  /** `text`: what `fromNames(names).text` would hold, as stowage writes a base: trusted as it is, not read through. */
  static fromSortedLines(text: string): SortedNameText {
    return new SortedNameText(text);
  }

  /** `names`: sorted by code unit, each once, none empty or holding a line break. */
  static fromNames(names: readonly string[]): SortedNameText {
    return new SortedNameText(names.join('\n'));
  }

  /** Where the names end: the position after the last (`at` answers undefined there). */
  get end(): number {
    return this.text.length;
  }

  /** The name whose line starts at `position` (undefined at or past the end). */
  at(position: number): string | undefined {
    if (position >= this.text.length) return undefined;
    return this.text.slice(position, this.lineEnd(position));
  }

  /** Where the name after the one at `position` starts (the end after the last). */
  next(position: number): number {
    return Math.min(this.lineEnd(position) + 1, this.text.length);
  }

  /** The position of the first name after `last` (the first name's when undefined). */
  firstAfter(last: string | undefined): number {
    return last === undefined ? 0 : this.search(last, true);
  }

  /**
   * Whether some name sorts below the name at `position` (a repository nested in its folder), by a look at the
   * name after it when that settles it: the names starting with it follow it at once, so the next name either
   * starts with it and `/` (yes), does not start with it at all (no), or is a sibling such as `x-y` or `x.y`
   * (`-` and `.` sort before `/`), and only then is the answer searched for.
   */
  hasBelowAt(position: number): boolean {
    const end = this.lineEnd(position);
    const next = end + 1;
    if (next >= this.text.length) return false;
    const length = end - position;
    const nextEnd = this.lineEnd(next);
    if (nextEnd - next <= length || compareRanges(this.text, next, next + length, this.text, position, end) !== 0) return false;
    return this.text.charCodeAt(next + length) === SLASH || this.hasBelow(this.text.slice(position, end));
  }

  /** Whether some name sorts below `name/`: a repository nested in `name`'s folder. */
  hasBelow(name: string): boolean {
    const prefix = `${name}/`;
    const position = this.search(prefix, false);
    return position < this.text.length && this.text.startsWith(prefix, position);
  }

  /** Whether `name` is one of the names. */
  has(name: string): boolean {
    const position = this.search(name, false);
    return position < this.text.length && compareSlice(this.text, position, this.lineEnd(position), name) === 0;
  }

  /** Where the line starting at `position` ends. */
  private lineEnd(position: number): number {
    const end = this.text.indexOf('\n', position);
    return end === -1 ? this.text.length : end;
  }

  /**
   * The position of the first name after `name` (`after`), or at or after it: a binary search over the text's
   * positions, each step taking the line around the middle. `low` is always where a line starts and `high`
   * where one starts or the end, and each step moves one of them past the middle, so the search ends.
   */
  private search(name: string, after: boolean): number {
    const text = this.text;
    let low = 0;
    let high = text.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      let start = middle;
      while (start > low && text.charCodeAt(start - 1) !== NEWLINE) start--;
      const end = this.lineEnd(start);
      const order = compareSlice(text, start, end, name);
      if (order < 0 || (order === 0 && after)) low = Math.min(end + 1, text.length);
      else high = start;
    }
    return low;
  }
}
