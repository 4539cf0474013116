/**
 * A writer told the size its caller expects to reach (FileWriter.expectSize, a request's declared length) starts
 * syncing what it holds once it is within the last MiB, so that the close's fdatasync finds only the last bytes
 * dirty: a chunk's 202 waits for the writeback of those instead of the 2-3 MiB the early syncs left (docs/bench.md,
 * "Large uploads, tenth pass"). What each finished sync covered is read from the page-cache budget's record of
 * synced ranges (page-cache.ts), which a writer feeds as its syncs finish; the bytes read back are the ones written.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileWriter, StorageDriver } from '../../../src/storage/driver.js';
import { wrapDriver } from '../../../src/storage/base.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';
import { KeptPages } from '../src/page-cache.js';
import { openWriter, partialPathOf } from '../src/writer.js';

const MiB = 1024 * 1024;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-expected-size-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The synced ranges a writer reports, in the order their syncs finished; nothing is dropped (the budget is far above them). */
class SyncedRanges extends KeptPages {
  readonly reported: Array<[number, number]> = [];

  constructor() {
    super(1024 * MiB);
  }

  override synced(path: string, from: number, to: number): void {
    this.reported.push([from, to]);
    super.synced(path, from, to);
  }
}

async function writerAt(name: string, append: boolean, pages: KeptPages): Promise<FileWriter> {
  return openWriter(
    join(root, name),
    append,
    (size) => new Error(`refused at ${size}`),
    (path) => join(root, path),
    pages,
  );
}

describe('a filesystem writer told the size it will reach', () => {
  it('syncs what it holds once within the last MiB, so the close syncs only the rest', async () => {
    const pages = new SyncedRanges();
    const writer = await writerAt('u1/data', false, pages);
    const bytes = randomBytes(MiB + MiB / 2);
    writer.expectSize!(bytes.length);
    await writer.write(bytes.subarray(0, MiB));
    await writer.write(bytes.subarray(MiB));
    await writer.close();
    expect(pages.reported).toEqual([
      [0, MiB],
      [MiB, MiB + MiB / 2],
    ]);
    expect(readFileSync(partialPathOf(join(root, 'u1/data'))).equals(bytes)).toBe(true);
  });

  it('counts from where an appending writer starts, and a writer told nothing syncs once at its close', async () => {
    const pages = new SyncedRanges();
    const first = await writerAt('u2/data', false, pages);
    const bytes = randomBytes(3 * MiB);
    await first.write(bytes.subarray(0, MiB));
    await first.write(bytes.subarray(MiB, MiB + MiB / 2));
    await first.close();
    expect(pages.reported).toEqual([[0, MiB + MiB / 2]]);

    const second = await writerAt('u2/data', true, pages);
    second.expectSize!(bytes.length);
    await second.write(bytes.subarray(MiB + MiB / 2, 2 * MiB + MiB / 2));
    await second.write(bytes.subarray(2 * MiB + MiB / 2));
    await second.close();
    expect(pages.reported.slice(1)).toEqual([
      [MiB + MiB / 2, 2 * MiB + MiB / 2],
      [2 * MiB + MiB / 2, 3 * MiB],
    ]);
    expect(readFileSync(partialPathOf(join(root, 'u2/data'))).equals(bytes)).toBe(true);
  });

  it('stores what arrived whether the body ends short of the size or runs past it, and commits it whole', async () => {
    const pages = new SyncedRanges();
    const short = await writerAt('u3/data', false, pages);
    const shortBytes = randomBytes(MiB + 100);
    short.expectSize!(2 * MiB);
    await short.write(shortBytes);
    await short.commit();
    await short.close();
    expect(readFileSync(join(root, 'u3/data')).equals(shortBytes)).toBe(true);

    const long = await writerAt('u4/data', false, pages);
    const longBytes = randomBytes(3 * MiB);
    long.expectSize!(MiB);
    for (let at = 0; at < longBytes.length; at += MiB / 2) await long.write(longBytes.subarray(at, at + MiB / 2));
    await long.commit();
    await long.close();
    expect(readFileSync(join(root, 'u4/data')).equals(longBytes)).toBe(true);
  });

  it('is passed on by the driver wrappers, as every optional writer call', async () => {
    const driver = wrapDriver(createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver);
    const writer = await driver.writer('/u5/data', false);
    expect(typeof writer.expectSize).toBe('function');
    const bytes = randomBytes(MiB + 7);
    writer.expectSize!(bytes.length);
    await writer.write(bytes);
    await writer.commit();
    await writer.close();
    expect(readFileSync(join(root, 'u5/data')).equals(bytes)).toBe(true);
  });
});
