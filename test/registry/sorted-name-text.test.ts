import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SortedNameText } from '../../src/registry/sorted-name-text.js';

/** repository-like names: short, from a small alphabet so that prefixes and near neighbours are common */
const name = fc.stringMatching(/^[a-c0-9._/-]{1,6}$/);
/** what to look up: names, their prefixes and extensions, and text outside the name grammar */
const probe = fc.oneof(name, fc.string({ maxLength: 7 }), fc.constant(''));

/** the answers of a plain sorted array, worked out with `<` and `indexOf` */
function reference(lines: readonly string[]): string[] {
  return [...new Set(lines.filter((line) => line !== ''))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** every name with where it starts, from the first on through `next` */
function walk(packed: SortedNameText): { name: string; position: number }[] {
  const found: { name: string; position: number }[] = [];
  for (let position = packed.firstAfter(undefined); position < packed.end; position = packed.next(position)) {
    found.push({ name: packed.at(position)!, position });
    if (found.length > 1000) throw new Error('next does not move on');
  }
  expect(packed.at(packed.end)).toBeUndefined();
  return found;
}

function expectSame(packed: SortedNameText, sorted: readonly string[], probes: readonly string[]): void {
  const held = walk(packed);
  expect(held.map(({ name }) => name)).toEqual(sorted);
  const positionOf = (index: number): number => (index === -1 ? packed.end : held[index]!.position);
  for (const last of [...probes, ...sorted]) {
    expect(packed.firstAfter(last), `after ${JSON.stringify(last)}`).toBe(positionOf(sorted.findIndex((candidate) => candidate > last)));
    expect(packed.has(last), `has ${JSON.stringify(last)}`).toBe(sorted.includes(last));
    expect(packed.hasBelow(last), `below ${JSON.stringify(last)}`).toBe(sorted.some((candidate) => candidate.startsWith(`${last}/`)));
  }
  for (const { name: at, position } of held) {
    expect(packed.hasBelowAt(position), `below ${JSON.stringify(at)} by its place`).toBe(sorted.some((candidate) => candidate.startsWith(`${at}/`)));
  }
}

describe('SortedNameText (the catalog base as one string)', () => {
  it('answers as a sorted array does, from sorted lines, from lines in any order with repeats and blanks, and from names', () => {
    fc.assert(
      fc.property(fc.array(name, { maxLength: 40 }), fc.array(probe, { maxLength: 10 }), fc.boolean(), (names, probes, trailingNewline) => {
        const sorted = reference(names);
        // as stowage writes a base, read by anyone
        expectSame(SortedNameText.fromLines(sorted.join('\n') + (trailingNewline ? '\n' : '')), sorted, probes);
        // as stowage writes a base, read under a matching digest
        expectSame(SortedNameText.fromSortedLines(sorted.join('\n')), sorted, probes);
        // as a base edited or cut short by hand may read
        expectSame(SortedNameText.fromLines(`\n${names.join('\n\n')}\n`), sorted, probes);
        // as a walk hands it over
        expectSame(SortedNameText.fromNames(sorted), sorted, probes);
      }),
      { numRuns: 300 },
    );
  });

  it('is empty for an empty base', () => {
    for (const text of ['', '\n', '\n\n']) {
      const packed = SortedNameText.fromLines(text);
      expect(packed.end).toBe(0);
      expect(packed.at(0)).toBeUndefined();
      expect(packed.firstAfter('a')).toBe(0);
      expect(packed.has('')).toBe(false);
      expect(packed.hasBelow('a')).toBe(false);
    }
  });
});
