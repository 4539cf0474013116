/**
 * An upload's synced bytes leave the page cache (page-cache.ts): a chunk written and closed (its 202), or an
 * upload committed, keeps none of its pages cached, so the next bytes reuse freed pages instead of growing
 * the page cache (docs/bench.md, "Large uploads, seventh pass"). Residency is read with util-linux's
 * `fincore` (mincore(2)); the bytes read back are the ones written.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';
import { dropCachedRange } from '../src/page-cache.js';

const MiB = 1024 * 1024;
let root: string;
let driver: StorageDriver;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-page-cache-'));
  driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** bytes of `file` in the page cache */
const residentBytes = (file: string): number => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());

describe('the filesystem writer and the page cache', () => {
  it('drops a closed chunk, and then a committed upload, from the page cache, and the bytes stay whole', async () => {
    const chunks = [randomBytes(8 * MiB + 12_345), randomBytes(5 * MiB + 3)];
    const first = await driver.writer('/uploads/u1/data', false);
    // in 1 MiB writes, as an upload's batches come (upload-body.ts)
    for (let at = 0; at < chunks[0].length; at += MiB) await first.write(chunks[0].subarray(at, at + MiB));
    await first.close();
    const partial = join(root, 'uploads/u1/data~partial');
    // at most the page that holds the end of the synced bytes' last range stays (its start was not dropped)
    expect(residentBytes(partial)).toBeLessThanOrEqual(4096);

    const second = await driver.writer('/uploads/u1/data', true);
    for (let at = 0; at < chunks[1].length; at += MiB) await second.write(chunks[1].subarray(at, at + MiB));
    await second.commitTo!('/blobs/ab/abcdef/data');
    await second.close();
    const blob = join(root, 'blobs/ab/abcdef/data');
    expect(residentBytes(blob)).toBeLessThanOrEqual(2 * 4096);
    expect(readFileSync(blob).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('drops only what the call names, and refuses nothing it cannot open', () => {
    const file = join(root, 'whole');
    writeFileSync(file, randomBytes(4 * MiB));
    execFileSync('sync', ['--data', file]);
    // to the end (length 0): the first half stays (folios are aligned and at most 2 MiB)
    expect(dropCachedRange(file, 2 * MiB, 0)).toBe(true);
    expect(residentBytes(file)).toBe(2 * MiB);
    expect(dropCachedRange(join(root, 'missing'), 0, 0)).toBe(false);
  });
});
