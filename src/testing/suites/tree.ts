/** Listing, stat, move, delete and walk: the store seen as a tree of directories. */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { FileInfo } from '../../storage/driver.js';
import { lexicalOrder } from '../../storage/walk.js';
import { type KitHarness, randomName, sleep } from '../harness.js';

export function treeTests(kit: KitHarness): void {
  const { sizes } = kit;
  const contentOf = async (path: string): Promise<Buffer> => Buffer.from(await kit.driver.getContent(path));

  kit.test({
    id: 'List',
    sentence: 'a listing holds exactly the direct children, as absolute paths, and a missing directory is PATH_NOT_FOUND',
    run: async () => {
      const root = kit.track(`/${randomName(8)}`);
      const missing = `${root}/nonexistent`;
      await kit.expectError(kit.driver.list(missing), 'PATH_NOT_FOUND', missing);
      const parent = `${root}/${randomName(8)}`;
      const children = new Set<string>();
      while (children.size < 50) children.add(`${parent}/${randomName(8)}`);
      for (const child of children) await kit.driver.putContent(child, randomBytes(32));
      expect(await kit.driver.list('/')).toEqual([root]);
      expect(await kit.driver.list(root)).toEqual([parent]);
      expect((await kit.driver.list(parent)).sort(lexicalOrder)).toEqual([...children].sort(lexicalOrder));
    },
  });

  kit.test({
    id: 'ListSubdirectories',
    sentence: 'a directory holding only subdirectories lists those subdirectories',
    run: async () => {
      const base = kit.path(2);
      await kit.driver.putContent(`${base}/d1/f1`, randomBytes(8));
      await kit.driver.putContent(`${base}/d2/f2`, randomBytes(8));
      expect((await kit.driver.list(base)).sort(lexicalOrder)).toEqual([`${base}/d1`, `${base}/d2`]);
    },
  });

  kit.test({
    id: 'ListFile',
    sentence: 'listing a path that is an object fails with PATH_NOT_FOUND or lists nothing',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, randomBytes(8));
      try {
        expect(await kit.driver.list(path)).toEqual([]);
      } catch (err) {
        expect((err as { code?: unknown }).code).toBe('PATH_NOT_FOUND');
      }
    },
  });

  kit.test({
    id: 'ListAfter',
    sentence: 'listAfter pages the direct children in code-unit order of their names, after any name, and says whether more follow',
    run: async () => {
      const parent = kit.path(2);
      // `-` and `.` sort before `/`, `_` after it: an object store's key order is not the names' order
      const names = ['a', 'a-b', 'a.b', 'a_b', 'ab', 'B', '0'];
      for (const [i, name] of names.entries()) {
        await kit.driver.putContent(i % 2 === 0 ? `${parent}/${name}` : `${parent}/${name}/inner`, randomBytes(8));
      }
      const sorted = [...names].sort(lexicalOrder);
      const listAfter = kit.driver.listAfter!.bind(kit.driver);
      for (const after of [undefined, ...sorted, '', 'a/', 'aa', 'zz']) {
        const expected = sorted.filter((name) => after === undefined || name > after);
        for (const limit of [0, 1, 3, 100]) {
          const page = await listAfter(parent, after, limit);
          expect(page.children, `after ${after}, limit ${limit}`).toEqual(expected.slice(0, limit).map((name) => `${parent}/${name}`));
          expect(page.more, `after ${after}, limit ${limit}`).toBe(expected.length > limit);
        }
      }
      await kit.expectError(listAfter(`${parent}/missing`, undefined, 10), 'PATH_NOT_FOUND', `${parent}/missing`);
    },
  });

  kit.test({
    id: 'Move',
    sentence: 'a moved object is at its destination and gone from its source',
    run: async () => {
      const [source, dest, content] = [kit.path(), kit.path(), randomBytes(32)];
      await kit.driver.putContent(source, content);
      await kit.driver.move(source, dest);
      expect((await contentOf(dest)).equals(content)).toBe(true);
      await kit.expectError(kit.driver.getContent(source), 'PATH_NOT_FOUND', source);
    },
  });

  kit.test({
    id: 'MoveOverwrite',
    sentence: 'moving onto an existing object replaces it',
    run: async () => {
      const [source, dest, content] = [kit.path(), kit.path(), randomBytes(32)];
      await kit.driver.putContent(source, content);
      await kit.driver.putContent(dest, randomBytes(64));
      await kit.driver.move(source, dest);
      expect((await contentOf(dest)).equals(content)).toBe(true);
      await kit.expectError(kit.driver.getContent(source), 'PATH_NOT_FOUND', source);
    },
  });

  kit.test({
    id: 'MoveNonexistent',
    sentence: 'moving a missing object fails with PATH_NOT_FOUND and leaves the destination untouched',
    run: async () => {
      const [source, dest, content] = [kit.path(), kit.path(), randomBytes(32)];
      await kit.driver.putContent(dest, content);
      await kit.expectError(kit.driver.move(source, dest), 'PATH_NOT_FOUND', source);
      expect((await contentOf(dest)).equals(content)).toBe(true);
    },
  });

  kit.test({
    id: 'MoveInvalid',
    sentence: 'moving an object to a path below itself fails',
    run: async () => {
      const notADirectory = kit.path(1);
      await kit.driver.putContent(notADirectory, randomBytes(32));
      await expect(kit.driver.move(notADirectory, `${notADirectory}/foo`)).rejects.toThrow();
    },
  });

  kit.test({
    id: 'Delete',
    sentence: 'a deleted object reads as PATH_NOT_FOUND',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, randomBytes(32));
      await kit.driver.delete(path);
      await kit.expectError(kit.driver.getContent(path), 'PATH_NOT_FOUND', path);
    },
  });

  kit.test({
    id: 'DeleteNonexistent',
    sentence: 'deleting a missing path fails with PATH_NOT_FOUND',
    run: async () => {
      const path = kit.path();
      await kit.expectError(kit.driver.delete(path), 'PATH_NOT_FOUND', path);
    },
  });

  kit.test({
    id: 'DeleteFolder',
    sentence: 'deleting a directory deletes everything below it',
    run: async () => {
      const dir = kit.path(2);
      const [f1, f2, f3] = [`${dir}/${randomName(8)}`, `${dir}/${randomName(8)}/${randomName(8)}`, `${dir}/${randomName(8)}`];
      for (const file of [f1, f2, f3]) await kit.driver.putContent(file, randomBytes(32));
      await kit.driver.delete(f1);
      await kit.expectError(kit.driver.getContent(f1), 'PATH_NOT_FOUND', f1);
      expect((await contentOf(f2)).length).toBe(32);
      expect((await contentOf(f3)).length).toBe(32);
      await kit.driver.delete(dir);
      for (const file of [f1, f2, f3]) await kit.expectError(kit.driver.getContent(file), 'PATH_NOT_FOUND', file);
      await kit.expectError(kit.driver.stat(dir), 'PATH_NOT_FOUND', dir);
    },
  });

  kit.test({
    id: 'DeleteOnlyDeletesSubpaths',
    sentence: 'deleting /a never touches /ab',
    run: async () => {
      const dir = kit.path(1);
      const name = randomName(16);
      const dirName = dir.slice(1);
      for (const path of [`${dir}/${name}`, `${dir}/${name}suffix`, `${dir}/${dirName}/${name}`, `${dir}/${dirName}suffix/${name}`]) {
        await kit.driver.putContent(path, randomBytes(32));
      }
      await kit.driver.delete(`${dir}/${name}`);
      await kit.expectError(kit.driver.getContent(`${dir}/${name}`), 'PATH_NOT_FOUND');
      expect((await contentOf(`${dir}/${name}suffix`)).length).toBe(32);
      await kit.driver.delete(`${dir}/${dirName}`);
      await kit.expectError(kit.driver.getContent(`${dir}/${dirName}/${name}`), 'PATH_NOT_FOUND');
      expect((await contentOf(`${dir}/${dirName}suffix/${name}`)).length).toBe(32);
    },
  });

  kit.test({
    id: 'StatCall',
    sentence: 'stat reports objects and directories, and an object rewritten later has a later modTime',
    timeoutMs: 60_000 + 2 * (sizes.statSleepMs + sizes.statSettleMs),
    run: async () => {
      const dir = kit.path(2);
      const file = `${dir}/${randomName(32)}`;
      await kit.expectError(kit.driver.stat(dir), 'PATH_NOT_FOUND', dir);
      await kit.expectError(kit.driver.stat(file), 'PATH_NOT_FOUND', file);

      await kit.driver.putContent(file, randomBytes(4096));
      const created = await kit.driver.stat(file);
      expect(created).toMatchObject({ path: file, size: 4096, isDir: false });

      await sleep(sizes.statSleepMs);
      await kit.driver.putContent(file, randomBytes(4000));
      const rewritten = await kit.driver.stat(file);
      await sleep(sizes.statSettleMs);
      expect(rewritten.size).toBe(4000);
      expect(rewritten.modTime.getTime(), 'modTime after the rewrite').toBeGreaterThan(created.modTime.getTime());

      expect(await kit.driver.stat(dir)).toMatchObject({ path: dir, size: 0, isDir: true });
      try {
        expect((await kit.driver.stat('/')).isDir).toBe(true);
      } catch (err) {
        expect((err as { code?: unknown }).code, 'stat("/") may only fail with PATH_NOT_FOUND').toBe('PATH_NOT_FOUND');
      }
    },
  });

  const walkFiles = ['a/x', 'a/y/z', 'a-b', 'b/c/d', 'b/e', 'c'];
  const walkTree = async (): Promise<{ root: string; entries: string[] }> => {
    const root = kit.path(1);
    const files = walkFiles.map((p) => `${root}/${p}`);
    for (const file of files) await kit.driver.putContent(file, randomBytes(4));
    // Depth first, children in lexical order of their full paths.
    const entries = ['a', 'a/x', 'a/y', 'a/y/z', 'a-b', 'b', 'b/c', 'b/c/d', 'b/e', 'c'].map((p) => `${root}/${p}`);
    return { root, entries };
  };
  const walk = async (root: string, control: (info: FileInfo) => 'skipDir' | 'stop' | void, startAfter?: string): Promise<FileInfo[]> => {
    const seen: FileInfo[] = [];
    await kit.driver.walk!(root, (info) => {
      seen.push(info);
      return control(info);
    }, startAfter === undefined ? undefined : { startAfter });
    return seen;
  };

  kit.test({
    id: 'Walk',
    sentence: 'a walk visits every entry below a directory, depth first in lexical order, with sizes and kinds',
    run: async () => {
      const { root, entries } = await walkTree();
      const seen = await walk(root, () => undefined);
      expect(seen.map((info) => info.path)).toEqual(entries);
      for (const info of seen) expect(info.isDir, info.path).toBe(!walkFiles.includes(info.path.slice(root.length + 1)));
      expect(seen.find((info) => info.path.endsWith('/a/x'))?.size).toBe(4);
    },
  });

  kit.test({
    id: 'WalkSkipDir',
    sentence: "a walk does not descend into a directory the callback answers 'skipDir' for",
    run: async () => {
      const { root, entries } = await walkTree();
      const seen = await walk(root, (info) => (info.path === `${root}/a` ? 'skipDir' : undefined));
      expect(seen.map((info) => info.path)).toEqual(entries.filter((p) => !p.startsWith(`${root}/a/`)));
    },
  });

  kit.test({
    id: 'WalkStop',
    sentence: "a walk ends at once when the callback answers 'stop'",
    run: async () => {
      const { root, entries } = await walkTree();
      const seen = await walk(root, (info) => (info.path === `${root}/a/y` ? 'stop' : undefined));
      expect(seen.map((info) => info.path)).toEqual(entries.slice(0, entries.indexOf(`${root}/a/y`) + 1));
    },
  });

  kit.test({
    id: 'WalkStartAfter',
    sentence: 'a walk with startAfter still visits, in order, every entry that sorts after it',
    run: async () => {
      const { root, entries } = await walkTree();
      const startAfter = `${root}/a/y/z`;
      const seen = (await walk(root, () => undefined, startAfter)).map((info) => info.path);
      const after = entries.filter((p) => p > startAfter);
      expect(seen.filter((p) => p > startAfter)).toEqual(after);
      expect(seen.filter((p) => after.includes(p))).toEqual(after);
    },
  });
}
