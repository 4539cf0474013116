/**
 * Listing files (listing-file.ts): a large folder's sorted listing written beside it by `prepareListing`
 * (`stowage catalog rebuild`), read by the first page of a process holding nothing, and trusted only while
 * the folder is what it was when the listing was read, whoever changed it since (here the test itself,
 * writing behind the drivers' backs as registry:2 or a restore would).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';
import { encodeListing, listingFileOf } from '../src/listing-file.js';
import { SettledTimes } from '../src/settled-times.js';
import { type FolderAccess, FILESYSTEM, LISTING_FILE_FROM_BYTES, SortedListings } from '../src/sorted-listings.js';
import { probeStamping } from '../src/stamp-probe.js';
import { settled } from '../../../test/support/settled.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-listing-file-'));
  roots.push(root);
  return root;
}

const driverOn = async (root: string): Promise<StorageDriver> => createDriver({ rootdirectory: root }, createDriverContext('filesystem'));

const tagName = (i: number): string => `t${String(i).padStart(5, '0')}`;

/** a tags folder large enough for a listing file, its tag folders made directly (as bench/layout.js does) */
async function largeTagsFolder(root: string): Promise<{ folder: string; names: string[] }> {
  const folder = join(root, 'tags');
  await mkdir(folder);
  const names: string[] = [];
  for (let i = 0; (await stat(folder)).size < LISTING_FILE_FROM_BYTES; i++) {
    const batch = Array.from({ length: 500 }, (_, j) => tagName(i * 500 + j));
    await Promise.all(batch.map((name) => mkdir(join(folder, name))));
    names.push(...batch);
  }
  return { folder, names: names.sort() };
}

const page = async (driver: StorageDriver, after: string | undefined, limit: number): Promise<{ names: string[]; more: boolean }> => {
  const listed = await driver.listAfter!('/tags', after, limit);
  return { names: listed.children.map((child) => child.slice('/tags/'.length)), more: listed.more };
};

const expectedPage = (names: readonly string[], after: string | undefined, limit: number): { names: string[]; more: boolean } => {
  const following = names.filter((name) => after === undefined || name > after);
  return { names: following.slice(0, limit), more: following.length > limit };
};

describe('filesystem: listing files of large folders', () => {
  it('prepareListing writes one; a driver holding nothing answers its first page from it, and from the folder once it changed', async () => {
    const root = await freshRoot();
    const { folder, names } = await largeTagsFolder(root);
    await settled(folder);
    await (await driverOn(root)).prepareListing!('/tags');
    const file = listingFileOf(folder);
    const written = await readFile(file, 'utf8');
    expect(written.slice(written.indexOf('\n') + 1)).toBe(`${names.join('\n')}\n`);

    // the same listing with a name the folder does not hold, under the folder's times: a driver that shows it read the file
    const info = await stat(folder, { bigint: true });
    await writeFile(file, encodeListing(info, [...names, 'zz-only-in-the-file'])!);
    const reader = await driverOn(root);
    expect(await page(reader, names.at(-2), 10)).toEqual({ names: [names.at(-1)!, 'zz-only-in-the-file'], more: false });
    expect(await page(reader, undefined, 2)).toEqual({ names: names.slice(0, 2), more: true });
    // probed at the root, as the driver does: a probe writes a file in the folder it is given
    const rule = SettledTimes.for(probeStamping(root));
    expect(await new SortedListings(() => rule).names(folder)).toEqual([...names, 'zz-only-in-the-file']);
    // hidden from listings, and not a temporary for upload purging to remove
    expect((await reader.list('/')).sort()).toEqual(['/tags']);
    expect(await reader.purgeTemporaries!(new Date(Date.now() + 60_000), true)).toEqual([]);

    // a tag added behind the drivers' backs moves the folder's times: the file is stale for this driver and a new one
    await mkdir(join(folder, 'a-new-tag'));
    const now = ['a-new-tag', ...names];
    expect(await page(reader, undefined, 3)).toEqual(expectedPage(now, undefined, 3));
    expect(await page(await driverOn(root), names.at(-2), 10)).toEqual(expectedPage(now, names.at(-2), 10));
    // and a removed one
    await rm(join(folder, names[0]!), { recursive: true });
    expect(await page(await driverOn(root), undefined, 2)).toEqual(expectedPage(now.filter((name) => name !== names[0]), undefined, 2));
  });

  it('a file cut short (a crash after its unsynced rename) or carried to another folder is not trusted', async () => {
    const root = await freshRoot();
    const { folder, names } = await largeTagsFolder(root);
    await settled(folder);
    await (await driverOn(root)).prepareListing!('/tags');
    const file = listingFileOf(folder);
    const info = await stat(folder, { bigint: true });
    await writeFile(file, encodeListing(info, ['planted', ...names])!);
    const cutShort = (await stat(file)).size - 7;
    await truncate(file, cutShort);
    expect(await page(await driverOn(root), undefined, 3)).toEqual(expectedPage(names, undefined, 3));

    // the file of a folder that was replaced by another one (a copy, a restore: another inode)
    await writeFile(file, encodeListing(info, ['planted', ...names])!);
    await rm(folder, { recursive: true });
    await mkdir(folder);
    await mkdir(join(folder, 'only'));
    expect(await page(await driverOn(root), undefined, 3)).toEqual({ names: ['only'], more: false });
  });

  it('a listing file of more names than listings keep is served but not kept, and leaves the kept listings kept', async () => {
    const root = await freshRoot();
    const big = join(root, 'big');
    const small = join(root, 'small');
    const bigNames = ['a', 'b', 'c', 'd', 'e', 'f'];
    for (const name of bigNames) await mkdir(join(big, name), { recursive: true });
    for (const name of ['x', 'y']) await mkdir(join(small, name), { recursive: true });
    await settled(big, small);
    const rule = SettledTimes.for(probeStamping(root));
    // listings that use files for a folder of any size
    await new SortedListings(() => rule, undefined, 0n).prepare(big);
    await stat(listingFileOf(big));

    const fileReads = new Map<string, number>();
    const scans = new Map<string, number>();
    const counted: FolderAccess = {
      ...FILESYSTEM,
      readFile: (file) => {
        fileReads.set(file, (fileReads.get(file) ?? 0) + 1);
        return FILESYSTEM.readFile(file);
      },
      scan: (folder, visit) => {
        scans.set(folder, (scans.get(folder) ?? 0) + 1);
        return FILESYSTEM.scan(folder, visit);
      },
    };
    for (const bound of [5, 6]) {
      fileReads.clear();
      scans.clear();
      const listings = new SortedListings(() => rule, counted, 0n, bound);
      expect(await listings.page(small, undefined, 1)).toEqual({ names: ['x'], more: true });
      expect(await listings.page(big, undefined, 2)).toEqual({ names: ['a', 'b'], more: true });
      expect(await listings.page(big, 'b', 10)).toEqual({ names: ['c', 'd', 'e', 'f'], more: false });
      expect(await listings.page(small, 'x', 1)).toEqual({ names: ['y'], more: false });
      // over the bound the file is read for each page; within it, once
      expect(fileReads.get(listingFileOf(big))).toBe(bound === 5 ? 2 : 1);
      expect(scans.get(big)).toBeUndefined();
      // the small folder's listing stays kept either way (a bound of 6 holds only one of the two: the big one is kept
      // last, so the small one goes, and is read again)
      expect(scans.get(small)).toBe(bound === 5 ? 1 : 2);
    }
  });

  it('a listing file that cannot be put in place leaves no temporary behind', async () => {
    const root = await freshRoot();
    const folder = join(root, 'names');
    for (const name of ['a', 'b']) await mkdir(join(folder, name), { recursive: true });
    // a folder where the listing file goes: the write beside it succeeds, the rename over it cannot
    await mkdir(join(listingFileOf(folder), 'in-the-way'), { recursive: true });
    await settled(folder);
    const rule = SettledTimes.for(probeStamping(root));
    await expect(new SortedListings(() => rule, undefined, 0n).prepare(folder)).rejects.toMatchObject({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) });
    expect((await readdir(root)).sort()).toEqual(['names', 'names~listing']);
  });

  it('prepareListing leaves small folders without a file, and a missing folder is nothing to prepare', async () => {
    const root = await freshRoot();
    const driver = await driverOn(root);
    await driver.putContent('/tags/a/current/link', Buffer.from('a'));
    await settled(join(root, 'tags'));
    await driver.prepareListing!('/tags');
    await expect(stat(listingFileOf(join(root, 'tags')))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(driver.prepareListing!('/missing')).resolves.toBeUndefined();
  });

  it('any history of changes, listing files and fresh processes on a real folder: every page is the page of the names stored', async () => {
    const root = await freshRoot();
    const folder = join(root, 'names');
    await mkdir(folder);
    const rule = SettledTimes.for(probeStamping(folder));
    // listings that use files for a folder of any size, as the driver's do for a large one
    const process = (): SortedListings => new SortedListings(() => rule, undefined, 0n);
    const stored = new Set<string>();
    const name = fc.constantFrom('a', 'a-b', 'a.b', 'b', 'c', 'd');
    // waiting for the folder's times to settle is slow and needed only where they come from a coarse clock: now and then
    const step = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const), name }), weight: 6 },
      { arbitrary: fc.record({ kind: fc.constantFrom('prepare' as const, 'restart' as const) }), weight: 6 },
      { arbitrary: fc.record({ kind: fc.constant('settle' as const) }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant('page' as const), after: fc.option(name, { nil: undefined }), limit: fc.integer({ min: 1, max: 4 }) }), weight: 6 },
    );
    let fromFile = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        let reader = process();
        let fresh = true;
        for (const s of steps) {
          if (s.kind === 'add' && !stored.has(s.name)) {
            await mkdir(join(folder, s.name));
            stored.add(s.name);
          } else if (s.kind === 'remove' && stored.has(s.name)) {
            await rm(join(folder, s.name), { recursive: true });
            stored.delete(s.name);
          } else if (s.kind === 'prepare') await process().prepare(folder);
          else if (s.kind === 'restart') {
            reader = process();
            fresh = true;
          } else if (s.kind === 'settle') await settled(folder);
          else if (s.kind === 'page') {
            const before = (await readFile(listingFileOf(folder)).catch(() => undefined)) !== undefined;
            const answer = await reader.page(folder, s.after, s.limit);
            expect(answer).toEqual(expectedPage([...stored].sort(), s.after, s.limit));
            if (fresh && before) fromFile++;
            fresh = false;
          }
        }
      }),
      { numRuns: 60 },
    );
    // first pages of fresh processes met a listing file (current or stale), so trusting one was put to the test
    expect(fromFile).toBeGreaterThan(0);
  });
});
