/**
 * A compacted listing journal must fold exactly as the journal it replaces: the same children and the same
 * name that last filled the directory (puts decide from it whether to list the directory in its parent).
 * The reference fold here is written from the rule in docs/elliptics.md, not taken from the driver.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactedLines, foldJournal } from '../../plugins/elliptics/src/listing.js';

function referenceFold(lines: readonly string[]): { children: string[]; filledBy: string | undefined } {
  let children: string[] = [];
  let filledBy: string | undefined;
  for (const line of lines) {
    const name = line.slice(1);
    if (line[0] === '+') {
      if (children.length === 0) filledBy = name;
      if (!children.includes(name)) children.push(name);
    } else {
      children = children.filter((child) => child !== name);
    }
  }
  return { children: children.sort(), filledBy };
}

describe('listing journal compaction', () => {
  it('folds to the same children and filler as the journal it replaces, in at most one line per child plus two', () => {
    const line = fc.tuple(fc.constantFrom('+', '-'), fc.constantFrom('a', 'b', 'c', 'data', 'link', '_uploads')).map(([op, name]) => `${op}${name}`);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 60 }), (lines) => {
        const compacted = compactedLines(foldJournal(lines.map((l) => `${l}\n`).join('')));
        const before = referenceFold(lines);
        expect(referenceFold(compacted)).toEqual(before);
        expect(compacted.length).toBeLessThanOrEqual(before.children.length + 2);
      }),
      { numRuns: 500 },
    );
  });
});
