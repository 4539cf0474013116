/**
 * PendingBytes (packages/backend-kit/src/pending-bytes.ts), the bytes an object writer holds short of a part:
 * any sequence of appends, takes, put-backs and give-backs gives the bytes back in the order they came, and a
 * part handed out is never changed by what is appended after it until it is given back (it leaves as the
 * writer's own buffer, which comes back for the next part).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingBytes } from '../../packages/backend-kit/src/pending-bytes.js';

type Step = { kind: 'append'; bytes: Uint8Array } | { kind: 'take'; size: number } | { kind: 'putBack' } | { kind: 'giveBack' } | { kind: 'clear' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 40 }).map((bytes) => ({ kind: 'append' as const, bytes })), weight: 6 },
  { arbitrary: fc.nat({ max: 60 }).map((size) => ({ kind: 'take' as const, size })), weight: 3 },
  { arbitrary: fc.constant({ kind: 'putBack' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'giveBack' as const }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'clear' as const }), weight: 1 },
);

describe('PendingBytes', () => {
  it('gives the bytes back in order through any appends, takes, put-backs and give-backs, and never changes a part handed out until it is given back', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer({ min: 1, max: 32 }), (steps, partSize) => {
        const pending = new PendingBytes();
        let model: number[] = [];
        // what each part handed out held then, to check it against what it holds at the end
        const handedOut: { part: Buffer; held: number[] }[] = [];
        let lastTaken: Buffer | undefined;
        for (const s of steps) {
          if (s.kind === 'append') {
            const source = Buffer.from(s.bytes);
            pending.append(source, partSize);
            // the caller may reuse its buffer at once
            source.fill(0xee);
            model.push(...s.bytes);
          } else if (s.kind === 'take') {
            const part = pending.take(s.size);
            const expected = model.slice(0, s.size);
            model = model.slice(expected.length);
            expect([...part]).toEqual(expected);
            handedOut.push({ part, held: expected });
            lastTaken = part;
          } else if (s.kind === 'putBack' && lastTaken) {
            pending.putBack(lastTaken);
            model = [...lastTaken, ...model];
            lastTaken = undefined;
          } else if (s.kind === 'giveBack' && lastTaken) {
            // a part the service has: its buffer is the writer's again, and nobody reads the part any more
            pending.giveBack();
            handedOut.pop();
            lastTaken = undefined;
          } else if (s.kind === 'clear') {
            pending.clear();
            model = [];
          }
          expect(pending.size).toBe(model.length);
        }
        expect([...pending.take(pending.size)]).toEqual(model);
        for (const { part, held } of handedOut) expect([...part]).toEqual(held);
      }),
      { numRuns: 500 },
    );
  });
});
