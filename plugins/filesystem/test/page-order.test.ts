/**
 * The two ways a page is cut from a folder's names without sorting them all: one pass keeping the page
 * (PageSelection, for a folder read once) and a listing sorted only where pages fall (LazilySortedNames,
 * for a kept one). Both must give what sorting every name and cutting would, page after page.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LazilySortedNames } from '../src/lazily-sorted-names.js';
import { PackedNames } from '../src/packed-names.js';
import { PageSelection } from '../src/page-selection.js';

/** the truth: every name sorted by UTF-16 code unit, then cut */
function expectedPage(names: readonly string[], after: string | undefined, limit: number): { names: string[]; more: boolean } {
  const following = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((name) => after === undefined || name > after);
  return { names: following.slice(0, Math.max(0, limit)), more: following.length > Math.max(0, limit) };
}

// short names over a few characters collide often with `after`; some astral ones sort differently by bytes
const nameArbitrary = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'b', 'c', '-', '.', '0', '9'), minLength: 1, maxLength: 7 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }));
// up to 3,000 names: past the size a segment is sorted whole at (256), so the partitions run
const namesArbitrary = fc.uniqueArray(nameArbitrary, { maxLength: 3000, size: 'max' });
const requestArbitrary = (names: readonly string[]) =>
  fc.record({
    after: fc.option(names.length ? fc.oneof(fc.constantFrom(...names), nameArbitrary) : nameArbitrary, { nil: undefined }),
    limit: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constant(Number.MAX_SAFE_INTEGER)),
  });

describe('pages cut without a full sort', () => {
  it('one pass keeping a page gives the page of the sorted names, in whatever order the names come', () => {
    fc.assert(
      fc.property(namesArbitrary.chain((names) => fc.tuple(fc.constant(names), requestArbitrary(names))), ([names, { after, limit }]) => {
        const selection = new PageSelection(after, limit);
        for (const name of names) selection.offer(name);
        expect(selection.page()).toEqual(expectedPage(names, after, limit));
      }),
      { numRuns: 150 },
    );
  });

  it('a listing sorted only where pages fall answers every page of a series as the sorted names do, and all of them in order at the end', () => {
    fc.assert(
      fc.property(namesArbitrary.chain((names) => fc.tuple(fc.constant(names), fc.array(requestArbitrary(names), { minLength: 1, maxLength: 12 }))), ([names, requests]) => {
        const listing = new LazilySortedNames(PackedNames.of(names));
        for (const { after, limit } of requests) expect(listing.pageAfter(after, limit)).toEqual(expectedPage(names, after, limit));
        expect(listing.all()).toEqual(expectedPage(names, undefined, Number.MAX_SAFE_INTEGER).names);
      }),
      { numRuns: 150 },
    );
  });

  it('names packed a batch at a time come back as they went in, across the batches they were joined in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(nameArbitrary, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })), { minLength: 1, maxLength: 2600, size: 'max' }), (names) => {
        const packed = PackedNames.of(names);
        expect(packed.size).toBe(names.length);
        expect(Array.from({ length: packed.size }, (_, i) => packed.name(i))).toEqual(names);
      }),
      { numRuns: 40 },
    );
  });

  it('a walk page by page through a kept listing of 20,000 names meets every name once, in order', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `t${String((i * 7919) % 20_000).padStart(5, '0')}`);
    const listing = new LazilySortedNames(PackedNames.of(names));
    const walked: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = listing.pageAfter(after, 100);
      walked.push(...page.names);
      if (!page.more) break;
      after = page.names[page.names.length - 1];
    }
    expect(walked).toEqual(expectedPage(names, undefined, Number.MAX_SAFE_INTEGER).names);
  });
});
