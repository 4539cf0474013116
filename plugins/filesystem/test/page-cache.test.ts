/**
 * The page cache that uploads fill stays within a budget (page-cache.ts): synced upload bytes beyond it, the
 * oldest first, are dropped, so a run of pushes reuses freed pages instead of growing the page cache, while
 * the newest stay cached for a pull right after (docs/bench.md, "Large uploads, seventh pass"). Residency is
 * read with util-linux's `fincore` (mincore(2)); the bytes read back are the ones written.
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
import { dropCachedRange } from '../src/fadvise.js';
import { KeptPages } from '../src/page-cache.js';

const MiB = 1024 * 1024;
let root: string;
let driver: StorageDriver;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-page-cache-'));
  driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** bytes of `file` in the page cache */
const residentBytes = (file: string): number => Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());

describe('the filesystem writer and the page cache', () => {
  it('keeps only the newest synced upload bytes within the budget, through chunks and the commit, and the bytes stay whole', async () => {
    driver = createDriver({ rootdirectory: root, uploadcache: 2 * MiB }, createDriverContext('filesystem')) as StorageDriver;
    const chunks = [randomBytes(8 * MiB + 12_345), randomBytes(5 * MiB + 3)];
    const first = await driver.writer('/uploads/u1/data', false);
    // in 1 MiB writes, as an upload's batches come (upload-body.ts)
    for (let at = 0; at < chunks[0].length; at += MiB) await first.write(chunks[0].subarray(at, at + MiB));
    await first.close();
    const partial = join(root, 'uploads/u1/data~partial');
    // the budget, and at most a 2 MiB folio more that straddles the kept range's start
    expect(residentBytes(partial)).toBeLessThanOrEqual(4 * MiB);
    expect(residentBytes(partial)).toBeGreaterThan(0);

    const second = await driver.writer('/uploads/u1/data', true);
    for (let at = 0; at < chunks[1].length; at += MiB) await second.write(chunks[1].subarray(at, at + MiB));
    await second.commitTo!('/blobs/ab/abcdef/data');
    await second.close();
    const blob = join(root, 'blobs/ab/abcdef/data');
    // the first chunk's kept bytes were dropped at the blob's path, after the rename
    expect(residentBytes(blob)).toBeLessThanOrEqual(4 * MiB);
    expect(readFileSync(blob).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('keeps everything under the budget', async () => {
    driver = createDriver({ rootdirectory: root, uploadcache: 8 * MiB }, createDriverContext('filesystem')) as StorageDriver;
    const bytes = randomBytes(6 * MiB);
    const writer = await driver.writer('/uploads/u2/data', false);
    for (let at = 0; at < bytes.length; at += MiB) await writer.write(bytes.subarray(at, at + MiB));
    await writer.commitTo!('/blobs/cd/cdef/data');
    await writer.close();
    expect(residentBytes(join(root, 'blobs/cd/cdef/data'))).toBe(6 * MiB);
  });

  it('follows the uploadcache option: 0 keeps no synced upload bytes cached, unlimited leaves them all to the kernel', async () => {
    const bytes = randomBytes(6 * MiB + 17);
    const push = async (options: Record<string, unknown>, path: string): Promise<string> => {
      const own = createDriver({ rootdirectory: root, ...options }, createDriverContext('filesystem')) as StorageDriver;
      const writer = await own.writer(`/uploads/${path}/data`, false);
      for (let at = 0; at < bytes.length; at += MiB) await writer.write(bytes.subarray(at, at + MiB));
      await writer.commitTo!(`/blobs/${path}/data`);
      await writer.close();
      return join(root, `blobs/${path}/data`);
    };
    const dropped = await push({ uploadcache: 0 }, 'none');
    const kept = await push({ uploadcache: 'unlimited' }, 'all');
    // every range was synced before it was handed over, so none of it is dirty and all of it can go
    expect(residentBytes(dropped)).toBe(0);
    // residency is counted in whole pages
    expect(residentBytes(kept)).toBe(Math.ceil(bytes.length / 4096) * 4096);
    expect(readFileSync(dropped).equals(bytes) && readFileSync(kept).equals(bytes)).toBe(true);
  });

  it('drops the oldest ranges first, a range in part when that is enough, at the path a file was renamed to', () => {
    const dropped: string[] = [];
    // no slack: each sync past the limit drops just what is over it
    const pages = new KeptPages(5 * MiB, (file, offset, length) => dropped.push(`${file} ${offset / MiB}+${length / MiB}`), 0);
    pages.synced('/a~partial', 0, 2 * MiB);
    pages.synced('/b', 0, 2 * MiB);
    pages.synced('/a~partial', 2 * MiB, 4 * MiB);
    // 1 MiB over: the oldest range loses its first MiB, widened to the 2 MiB folio that holds it
    expect(dropped).toEqual(['/a~partial 0+2']);
    pages.renamed('/a~partial', '/blobs/a');
    pages.synced('/c', 0, 1 * MiB);
    // the rest of that range, where its file is now
    expect(dropped).toEqual(['/a~partial 0+2', '/blobs/a 0+2']);
    pages.synced('/c', 1 * MiB, 3 * MiB);
    expect(dropped).toEqual(['/a~partial 0+2', '/blobs/a 0+2', '/b 0+2']);
    pages.synced('/d', 0, 2 * MiB);
    expect(dropped).toEqual(['/a~partial 0+2', '/blobs/a 0+2', '/b 0+2', '/blobs/a 2+2']);
  });

  it('drops in batches, down to the slack below the limit, with one advice for a run of syncs of one file', () => {
    const dropped: string[] = [];
    const pages = new KeptPages(8 * MiB, (file, offset, length) => dropped.push(`${file} ${offset / MiB}+${length / MiB}`), 4 * MiB);
    // an upload's early syncs, 1 MiB each
    for (let at = 0; at < 8; at++) pages.synced('/u~partial', at * MiB, (at + 1) * MiB);
    expect(dropped).toEqual([]);
    pages.synced('/u~partial', 8 * MiB, 9 * MiB);
    // over by 1 MiB: down to 4 MiB kept, its 5 oldest MiB in one advice (the end widened to its folio)
    expect(dropped).toEqual(['/u~partial 0+6']);
    for (let at = 9; at < 13; at++) pages.synced('/u~partial', at * MiB, (at + 1) * MiB);
    expect(dropped).toEqual(['/u~partial 0+6']);
    // another file's bytes are a range of their own: the next batch takes the rest of the first file's oldest
    pages.synced('/v~partial', 0, 1 * MiB);
    expect(dropped).toEqual(['/u~partial 0+6', '/u~partial 4+6']);
    pages.synced('/u~partial', 13 * MiB, 18 * MiB);
    expect(dropped).toEqual(['/u~partial 0+6', '/u~partial 4+6', '/u~partial 10+4', '/v~partial 0+2', '/u~partial 12+2']);
  });

  it('drops a named range of a real file, to the end with length 0, and refuses nothing it cannot open', () => {
    const file = join(root, 'whole');
    writeFileSync(file, randomBytes(4 * MiB));
    execFileSync('sync', ['--data', file]);
    // the first half stays (folios are aligned and at most 2 MiB)
    expect(dropCachedRange(file, 2 * MiB, 0)).toBe(true);
    expect(residentBytes(file)).toBe(2 * MiB);
    expect(dropCachedRange(join(root, 'missing'), 0, 0)).toBe(false);
  });
});
