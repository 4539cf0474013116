/**
 * Sorted listings kept between calls (listAfter): a kept listing is used only while the folder is
 * unchanged, whoever changes it (here a second driver on the same root, as a second process would be).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';
import { SettledTimes } from '../src/settled-times.js';
import { SortedListings } from '../src/sorted-listings.js';
import { probeStamping } from '../src/stamp-probe.js';
import { settled } from '../../../test/support/settled.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-listings-'));
  roots.push(root);
  return root;
}

/** listings under the rule the driver would use for the folder's filesystem (probed once, as the driver does) */
function listingsFor(folder: string): SortedListings {
  const rule = SettledTimes.for(probeStamping(folder));
  return new SortedListings(() => rule);
}

const driverOn = async (root: string): Promise<StorageDriver> => createDriver({ rootdirectory: root }, createDriverContext('filesystem'));

const names = async (driver: StorageDriver, after?: string, limit = 100): Promise<string[]> => (await driver.listAfter!('/tags', after, limit)).children.map((child) => child.slice('/tags/'.length));

describe('filesystem: sorted listings kept while a folder is unchanged', () => {
  it('keeps the listing of a settled folder, and reads it again once the folder changed', async () => {
    const root = await freshRoot();
    const driver = await driverOn(root);
    for (const tag of ['b', 'a', 'c']) await driver.putContent(`/tags/${tag}/current/link`, Buffer.from(tag));
    const folder = join(root, 'tags');
    const listings = listingsFor(folder);
    await settled(folder);
    const first = await listings.names(folder);
    expect(first).toEqual(['a', 'b', 'c']);
    // the same array: kept, not read again
    expect(await listings.names(folder)).toBe(first);
    await driver.putContent('/tags/a0/current/link', Buffer.from('a0'));
    expect(await listings.names(folder)).toEqual(['a', 'a0', 'b', 'c']);
  });

  it('keeps nothing where folder times cannot be trusted (a network filesystem): every call reads the folder', async () => {
    const root = await freshRoot();
    const driver = await driverOn(root);
    for (const tag of ['b', 'a']) await driver.putContent(`/tags/${tag}/current/link`, Buffer.from(tag));
    const listings = new SortedListings(() => undefined);
    const folder = join(root, 'tags');
    await settled(folder);
    const first = await listings.names(folder);
    expect(first).toEqual(['a', 'b']);
    const second = await listings.names(folder);
    expect(second).toEqual(['a', 'b']);
    expect(second).not.toBe(first);
  });

  it('a listing kept by one driver shows at once a tag another driver on the same storage added or removed', async () => {
    const root = await freshRoot();
    const [reader, writer] = [await driverOn(root), await driverOn(root)];
    for (const tag of ['t1', 't2', 't3']) await writer.putContent(`/tags/${tag}/current/link`, Buffer.from(tag));
    await settled(join(root, 'tags'));
    expect(await names(reader)).toEqual(['t1', 't2', 't3']);
    await writer.putContent('/tags/t4/current/link', Buffer.from('t4'));
    expect(await names(reader)).toEqual(['t1', 't2', 't3', 't4']);
    await settled(join(root, 'tags'));
    expect(await names(reader)).toEqual(['t1', 't2', 't3', 't4']);
    await writer.delete('/tags/t2');
    expect(await names(reader)).toEqual(['t1', 't3', 't4']);
    await expect(reader.listAfter!('/missing', undefined, 10)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await reader.listAfter!('/', undefined, 10)).toEqual({ children: ['/tags'], more: false });
  });

  it("a tag another driver adds or removes right after a page was read shows on the next page (this host's filesystem under the rule its probe chose)", async () => {
    const root = await freshRoot();
    const [reader, writer] = [await driverOn(root), await driverOn(root)];
    await writer.putContent('/tags/t0/current/link', Buffer.from('t0'));
    const expected = ['t0'];
    for (let i = 1; i <= 30; i++) {
      // no wait for times to settle: the second change follows the read as closely as it can
      expect(await names(reader)).toEqual(expected);
      if (i % 3 === 0) {
        await writer.delete(`/tags/${expected.shift()!}`);
      } else {
        await writer.putContent(`/tags/t${i}/current/link`, Buffer.from(`t${i}`));
        expect(await names(reader)).toEqual(expected.concat(`t${i}`).sort());
        expected.push(`t${i}`);
        expected.sort();
      }
    }
    expect(await names(reader)).toEqual(expected);
  });

  it('any page after any name equals the page of a full sorted listing', async () => {
    const root = await freshRoot();
    const driver = await driverOn(root);
    const stored = ['0', '9', 'A', 'Z', '_', 'a', 'a-b', 'a.b', 'a_b', 'ab', 'b', 'b-0', 'z'];
    for (const name of stored) await driver.putContent(`/tags/${name}/current/link`, Buffer.from(name));
    await fc.assert(
      fc.asyncProperty(fc.option(fc.oneof(fc.constantFrom(...stored), fc.string({ maxLength: 3 })), { nil: undefined }), fc.integer({ min: 0, max: 15 }), async (after, limit) => {
        const expected = stored.filter((name) => after === undefined || name > after);
        const page = await driver.listAfter!('/tags', after, limit);
        expect(page.children).toEqual(expected.slice(0, limit).map((name) => `/tags/${name}`));
        expect(page.more).toBe(expected.length > limit);
      }),
      { numRuns: 80 },
    );
  });

  it('answers names in code-unit order where their bytes sort otherwise (readdir answers them by bytes), without the ~ temporaries', async () => {
    const root = await freshRoot();
    const folder = join(root, 'names');
    await mkdir(folder);
    // U+FFFD sorts before U+1F600 by UTF-8 bytes, after it by UTF-16 code units (a surrogate pair, D83D DE00)
    const written = ['b', 'a-b', 'a', '\uFFFD', '\u{1F600}', 'a.b', 'c~x.tmp', 'B', '_x'];
    for (const name of written) await writeFile(join(folder, name), name);
    const expected = written.filter((name) => !name.includes('~')).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    expect(expected.indexOf('\u{1F600}')).toBeLessThan(expected.indexOf('\uFFFD'));
    expect(await listingsFor(folder).names(folder)).toEqual(expected);
  });
});
