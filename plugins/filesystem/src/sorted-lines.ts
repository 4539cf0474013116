/**
 * A folder's names, already sorted, as one string with a line break after each: what a listing file holds
 * (listing-file.ts), searched where it was read. A page is a binary search over the text's positions (a line
 * is found by stepping back to the line break before the middle) and the page's lines: nothing is done per
 * name of the listing, so the first page after loading 100,000 names costs no pass over them (a pass in code
 * V8 has not optimised yet cost 15-40 ms for the catalog's base: docs/bench.md, "Catalog pages, seventh pass").
 */
import type { NamePage } from './sorted-listings.js';

export class SortedLines {
  /** `text`: distinct names in code-unit order, each followed by a line break; `size`: how many */
  constructor(
    private readonly text: string,
    readonly size: number,
  ) {}

  pageAfter(after: string | undefined, limit: number): NamePage {
    const { text } = this;
    let at = after === undefined ? 0 : this.firstLineAfter(after);
    const names: string[] = [];
    while (names.length < limit && at < text.length) {
      const end = text.indexOf('\n', at);
      names.push(text.slice(at, end));
      at = end + 1;
    }
    return { names, more: at < text.length };
  }

  /** every name in order, once asked for */
  private everyName: readonly string[] | undefined;

  /** All names, in order (the same array each time). */
  all(): readonly string[] {
    this.everyName ??= this.text === '' ? [] : this.text.slice(0, -1).split('\n');
    return this.everyName;
  }

  /** where the first line sorting after `after` starts (the text's length when none does) */
  private firstLineAfter(after: string): number {
    const { text } = this;
    // line starts, with every line before `low` at or before `after` and every line from `high` on after it
    let low = 0;
    let high = text.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const start = text.lastIndexOf('\n', middle - 1) + 1;
      const end = text.indexOf('\n', start);
      if (text.slice(start, end) <= after) low = end + 1;
      else high = start;
    }
    return low;
  }
}
