/** A driver with statIfPresent / uploadSizeIfPresent: the same answers as stat / uploadSize, a miss as undefined. */
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';

export function ifPresentTests(kit: KitHarness): void {
  kit.test({
    id: 'StatIfPresent',
    sentence: 'statIfPresent answers what stat answers for an object and a directory, and undefined where stat fails with PATH_NOT_FOUND',
    run: async () => {
      const driver = kit.driver;
      if (!driver.statIfPresent) return;
      const folder = kit.path();
      const path = `${folder}/inner/object`;
      expect(await driver.statIfPresent(path)).toBeUndefined();
      await kit.expectError(driver.stat(path), 'PATH_NOT_FOUND', path);
      await driver.putContent(path, Buffer.from('seven b'));
      const info = await driver.statIfPresent(path);
      expect(info).toEqual(await driver.stat(path));
      expect(info).toMatchObject({ path, size: 7, isDir: false });
      expect(await driver.statIfPresent(`${folder}/inner`)).toMatchObject({ path: `${folder}/inner`, isDir: true });
      // below an object, not a folder: as missing as stat says
      expect(await driver.statIfPresent(`${path}/below`)).toBeUndefined();
      await driver.delete(path);
      expect(await driver.statIfPresent(path)).toBeUndefined();
    },
  });
  kit.test({
    id: 'UploadSizeIfPresent',
    sentence: 'uploadSizeIfPresent answers what uploadSize answers for an upload and an object, and undefined where uploadSize fails with PATH_NOT_FOUND',
    run: async () => {
      const driver = kit.driver;
      if (!driver.uploadSizeIfPresent) return;
      const path = `${kit.path()}/upload/data`;
      expect(await driver.uploadSizeIfPresent(path)).toBeUndefined();
      await kit.expectError(driver.uploadSize(path), 'PATH_NOT_FOUND', path);
      const writer = await driver.writer(path, false);
      try {
        await writer.write(Buffer.from('five!'));
      } finally {
        await writer.close();
      }
      expect(await driver.uploadSizeIfPresent(path)).toBe(5);
      expect(await driver.uploadSize(path)).toBe(5);
    },
  });
}
