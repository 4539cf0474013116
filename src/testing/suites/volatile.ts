/** A driver with putVolatile and persist: a volatile object reads, lists and is replaced like any other. */
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';

export function volatileTests(kit: KitHarness): void {
  kit.test({
    id: 'VolatilePut',
    sentence: 'an object written with putVolatile reads back whole, its new folder is listed with it, and persist keeps it as it is',
    run: async () => {
      const driver = kit.driver;
      if (!driver.putVolatile || !driver.persist) return;
      const folder = kit.path();
      const path = `${folder}/inner/startedat`;
      await driver.putVolatile(path, Buffer.from('2026-12-06T11:00:00Z'));
      expect(Buffer.from(await driver.getContent(path)).toString()).toBe('2026-12-06T11:00:00Z');
      expect(await driver.list(folder)).toEqual([`${folder}/inner`]);
      await driver.persist(path);
      expect(Buffer.from(await driver.getContent(path)).toString()).toBe('2026-12-06T11:00:00Z');
      await driver.putVolatile(path, Buffer.from('replaced'));
      expect(Buffer.from(await driver.getContent(path)).toString()).toBe('replaced');
    },
  });
  kit.test({
    id: 'PersistMissing',
    sentence: 'persisting an object that is not there fails with PATH_NOT_FOUND naming the path',
    run: async () => {
      const driver = kit.driver;
      if (!driver.putVolatile || !driver.persist) return;
      const path = kit.path();
      await kit.expectError(driver.persist(path), 'PATH_NOT_FOUND', path);
    },
  });
}
