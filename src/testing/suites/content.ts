/** Whole-object get/put, paths, and missing objects (distribution's suite plus docker-registry-core's). */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';

/** The valid paths of distribution's TestValidPaths. */
const validPaths = [
  '/a',
  '/2',
  '/aa',
  '/a.a',
  '/0-9/abcdefg',
  '/abcdefg/z.75',
  '/abc/1.2.3.4.5-6_zyx/123.z/4',
  '/docker/docker-registry',
  '/123.abc',
  '/abc./abc',
  '/.abc',
  '/a--b',
  '/a-.b',
  '/_.abc',
  '/Docker/docker-registry',
  '/Abc/Cba',
];

const invalidPaths = ['', '/', 'abc', '123.abc', '//bcd', '/abc_123/'];

export function contentTests(kit: KitHarness): void {
  const roundTrip = async (content: Uint8Array): Promise<void> => {
    const path = kit.path();
    await kit.driver.putContent(path, content);
    expect(Buffer.from(await kit.driver.getContent(path)).equals(Buffer.from(content))).toBe(true);
  };

  kit.test({
    id: 'RootExists',
    sentence: 'listing the root of a fresh store succeeds',
    run: async () => {
      expect(Array.isArray(await kit.driver.list('/'))).toBe(true);
    },
  });

  kit.test({
    id: 'ValidPaths',
    sentence: 'every path of the storage path grammar can be written and read back',
    run: async () => {
      const content = randomBytes(64);
      for (const path of validPaths) {
        kit.track(path);
        await kit.driver.putContent(path, content);
        expect(Buffer.from(await kit.driver.getContent(path)).equals(content), path).toBe(true);
      }
    },
  });

  kit.test({
    id: 'InvalidPaths',
    sentence: 'writing or reading an invalid path fails with INVALID_PATH naming the driver',
    run: async () => {
      const content = randomBytes(64);
      for (const path of invalidPaths) {
        await kit.expectError(kit.driver.putContent(path, content), 'INVALID_PATH');
        await kit.expectError(kit.driver.getContent(path), 'INVALID_PATH');
      }
    },
  });

  kit.test({ id: 'WriteRead1', sentence: 'a one-byte object reads back as written', run: () => roundTrip(Buffer.from('a')) });
  kit.test({ id: 'WriteRead2', sentence: 'a UTF-8 object reads back as written', run: () => roundTrip(Buffer.from('\u00df')) });
  kit.test({ id: 'WriteRead3', sentence: 'a 32-byte random object reads back as written', run: () => roundTrip(randomBytes(32)) });
  kit.test({ id: 'WriteRead4', sentence: 'a 1 MiB random object reads back as written', run: () => roundTrip(randomBytes(1024 * 1024)) });
  kit.test({
    id: 'WriteReadNonUTF8',
    sentence: 'bytes that are not UTF-8 read back as written',
    run: () => roundTrip(Buffer.from([0x80, 0x80, 0x80, 0x80])),
  });

  kit.test({
    id: 'Truncate',
    sentence: 'putting shorter content leaves nothing of the old content behind',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, randomBytes(1024 * 1024));
      await kit.driver.putContent(path, Buffer.from('a'));
      expect(Buffer.from(await kit.driver.getContent(path)).toString()).toBe('a');
      expect((await kit.driver.stat(path)).size).toBe(1);
    },
  });

  kit.test({
    id: 'ReadNonexistent',
    sentence: 'reading a missing object fails with PATH_NOT_FOUND naming the path',
    run: async () => {
      const path = kit.path();
      await kit.expectError(kit.driver.getContent(path), 'PATH_NOT_FOUND', path);
    },
  });

  kit.test({
    id: 'PutContentMultipleTimes',
    sentence: 'putting content again replaces the object entirely',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, randomBytes(4096));
      const second = randomBytes(2048);
      await kit.driver.putContent(path, second);
      expect(Buffer.from(await kit.driver.getContent(path)).equals(second)).toBe(true);
    },
  });

  kit.test({
    id: 'PutContents',
    sentence: 'putContents stores every object it is given, replacing what was there, a new folder listed with all of its objects; a path given twice is INVALID_PATH',
    run: async () => {
      // a manifest push's shape: an object in an existing folder, two in a folder that is new, one replaced
      const base = kit.path(2);
      await kit.driver.putContent(`${base}/revision/link`, Buffer.from('old'));
      await kit.driver.putContent(`${base}/tags/old/current/link`, Buffer.from('old'));
      const objects = [`${base}/revision/link`, `${base}/tags/new/current/link`, `${base}/tags/new/index/sha256/aa/link`, `${base}/tags/old/current/link`].map((path, i) => ({ path, content: randomBytes(16 + i) }));
      // the driver's own, or the one stowage gives every driver (one putContent after another)
      await kit.driver.putContents!(objects);
      for (const { path, content } of objects) expect(Buffer.from(await kit.driver.getContent(path)).equals(content), path).toBe(true);
      expect((await kit.driver.list(`${base}/tags`)).sort()).toEqual([`${base}/tags/new`, `${base}/tags/old`]);
      expect((await kit.driver.list(`${base}/tags/new`)).sort()).toEqual([`${base}/tags/new/current`, `${base}/tags/new/index`]);
      const twice = [{ path: `${base}/twice`, content: randomBytes(4) }, { path: `${base}/twice`, content: randomBytes(4) }];
      await kit.expectError(kit.driver.putContents!(twice), 'INVALID_PATH');
      await kit.expectError(kit.driver.getContent(`${base}/twice`), 'PATH_NOT_FOUND');
    },
  });

  kit.test({
    id: 'EmptyObject',
    sentence: 'an empty object exists, has size 0 and reads back empty',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, new Uint8Array(0));
      const info = await kit.driver.stat(path);
      expect(info).toMatchObject({ path, size: 0, isDir: false });
      expect((await kit.driver.getContent(path)).length).toBe(0);
      const parent = path.slice(0, path.lastIndexOf('/'));
      expect(await kit.driver.list(parent)).toEqual([path]);
    },
  });

  kit.test({
    id: 'MissingPaths',
    sentence: 'stat, list, reader and delete of a missing path fail with PATH_NOT_FOUND',
    run: async () => {
      const path = kit.path();
      await kit.expectError(kit.driver.stat(path), 'PATH_NOT_FOUND', path);
      await kit.expectError(kit.driver.list(path), 'PATH_NOT_FOUND', path);
      await kit.expectError(kit.driver.reader(path, 0), 'PATH_NOT_FOUND', path);
      await kit.expectError(kit.driver.delete(path), 'PATH_NOT_FOUND', path);
    },
  });
}
