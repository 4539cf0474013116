/**
 * Uncommitted uploads as the registry uses them across requests and processes: the size is read without a
 * writer, and a writer that was given nothing changes nothing (contract version 2).
 */
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';
import { Pattern, digestStream } from '../pattern.js';

export function uploadTests(kit: KitHarness): void {
  kit.test({
    id: 'UploadSize',
    sentence: 'uploadSize reports the bytes an uncommitted upload holds, then the committed size, and PATH_NOT_FOUND where there is neither',
    run: async () => {
      const path = kit.path();
      await kit.expectError(kit.driver.uploadSize(path), 'PATH_NOT_FOUND', path);
      const pattern = new Pattern(3 * 1024 + 17);
      const writer = await kit.driver.writer(path, false);
      await writer.write(pattern.slice(0, 1024));
      await writer.close();
      expect(await kit.driver.uploadSize(path)).toBe(1024);
      const again = await kit.driver.writer(path, true);
      expect(again.size).toBe(1024);
      await again.write(pattern.slice(1024, pattern.size));
      await again.commit();
      await again.close();
      expect(await kit.driver.uploadSize(path)).toBe(pattern.size);
      expect(await digestStream(await kit.driver.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
    },
  });

  kit.test({
    id: 'IdleWriterPersistsNothing',
    sentence: 'a writer closed without being written to leaves the upload as another writer left it meanwhile',
    run: async () => {
      const path = kit.path();
      const pattern = new Pattern(2 * 1024 + 5);
      const first = await kit.driver.writer(path, false);
      await first.write(pattern.slice(0, 1024));
      await first.close();
      // an idle writer (a status read done the v1 way) and an appending one, both opened at 1024 bytes
      const idle = await kit.driver.writer(path, true);
      const appending = await kit.driver.writer(path, true);
      expect([idle.size, appending.size]).toEqual([1024, 1024]);
      await appending.write(pattern.slice(1024, pattern.size));
      await appending.close();
      await idle.close();
      expect(await kit.driver.uploadSize(path)).toBe(pattern.size);
      const last = await kit.driver.writer(path, true);
      expect(last.size).toBe(pattern.size);
      await last.commit();
      await last.close();
      expect(await digestStream(await kit.driver.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });

      // Writers opened on fresh paths and closed unwritten create nothing, not even a folder.
      const before = await tree(kit);
      for (const append of [false, true]) {
        const fresh = await kit.driver.writer(kit.path(), append);
        expect(fresh.size).toBe(0);
        await fresh.close();
      }
      expect(await tree(kit), 'every path under / after idle writers on fresh paths').toEqual(before);
    },
  });
}

/** Every path under `/`, folders included, as the driver walks them. */
async function tree(kit: KitHarness): Promise<string[]> {
  const paths: string[] = [];
  await kit.driver.walk!('/', (info) => {
    paths.push(info.isDir ? `${info.path}/` : info.path);
  });
  return paths.sort();
}
