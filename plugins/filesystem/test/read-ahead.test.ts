/**
 * Where the page-cache budget is kept, a blob GET's positional reads of a large object ask for its pages
 * ahead (read-ahead.ts): the object's pages are in the page cache well past what was read, further than the
 * kernel's own readahead goes (the bench machine's disk: 8 MiB), and nothing changes where the kernel alone
 * decides. Residency is read with util-linux's `fincore` (mincore(2)).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { READ_AT, type ReadAt, type StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { dropCachedRange } from '../src/fadvise.js';
import { createDriver } from '../src/index.js';
import { ReadAhead } from '../src/read-ahead.js';

const MiB = 1024 * 1024;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-read-ahead-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const residentBytes = (file: string): number => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());

/** A 48 MiB object written, synced and dropped from the page cache; answers its file. */
function coldObject(): string {
  mkdirSync(join(root, 'blobs'), { recursive: true });
  const file = join(root, 'blobs/data');
  writeFileSync(file, randomBytes(48 * MiB));
  execFileSync('sync', ['--data', file]);
  expect(dropCachedRange(file, 0, 0)).toBe(true);
  expect(residentBytes(file)).toBe(0);
  return file;
}

/** Polls `done` until it holds, failing after 20 s. */
async function waitFor(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function readFirstMiB(options: Record<string, unknown>): Promise<Buffer> {
  const driver = createDriver({ rootdirectory: root, ...options }, createDriverContext('filesystem')) as StorageDriver;
  const stream = await driver.reader('/blobs/data', 0);
  const readAt = (stream as unknown as Record<symbol, ReadAt>)[READ_AT]!;
  const buffer = Buffer.alloc(MiB);
  expect(await readAt(buffer, MiB, 0)).toBe(MiB);
  stream.destroy();
  return buffer;
}

describe('reads ahead of a large object where the page-cache budget is kept', () => {
  it('asks for the pages 32 MiB past a positional read with a budget', async () => {
    const file = coldObject();
    const first = await readFirstMiB({ uploadcache: 512 * MiB });
    // mincore counts a page once its read is done: the reads asked for end soon, the kernel's own readahead
    // stops at 8 MiB on this disk
    await waitFor(() => residentBytes(file) >= 32 * MiB, 'the pages 32 MiB past the read in the page cache');
    expect(first.equals(readFileSync(file).subarray(0, MiB))).toBe(true);
  });

  it('asks once for each byte from where reading starts, up to the end, at most 32 MiB past the read, in pieces of at most 4 MiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * MiB }), fc.array(fc.integer({ min: 1, max: 4 * MiB }), { minLength: 1, maxLength: 80 }), fc.integer({ min: 0, max: 16 * MiB }), (size, lengths, start) => {
        const end = start + size;
        const asked: [number, number][] = [];
        const ahead = new ReadAhead('/f', start, end, (_file, offset, length) => asked.push([offset, offset + length]));
        let position = start;
        for (const length of lengths) {
          if (position >= end) break;
          ahead.reading(position, length);
          const upTo = asked.length > 0 ? asked[asked.length - 1]![1] : start;
          // far enough ahead: what the next read needs, and all but a step of the window
          expect(upTo).toBeGreaterThanOrEqual(Math.min(end, position + length + 24 * MiB));
          expect(upTo).toBeLessThanOrEqual(Math.min(end, position + length + 32 * MiB));
          position += length;
        }
        // contiguous from the start, never past the end, in pieces of at most 4 MiB (what the kernel reads of one advice)
        let expectedFrom = start;
        for (const [from, to] of asked) {
          expect(from).toBe(expectedFrom);
          expect(to).toBeLessThanOrEqual(end);
          expect(to - from).toBeGreaterThan(0);
          expect(to - from).toBeLessThanOrEqual(4 * MiB);
          expectedFrom = to;
        }
      }),
    );
  });
});
