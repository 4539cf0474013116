/** A driver that stamps content (contentStampSync): the same stamp only while the object holds the same bytes. */
import { expect } from 'vitest';
import type { StorageDriver } from '../../storage/driver.js';
import type { KitHarness } from '../harness.js';

/** how long a driver may take to stamp a fresh object (the filesystem driver waits for its times to settle: 2 s at worst) */
const STAMP_WAIT_MS = 3_000;

export function contentStampTests(kit: KitHarness): void {
  kit.test({
    id: 'ContentStamp',
    sentence: 'a content stamp, when the driver gives one, stays while the object is unchanged and is not given again once it is replaced or deleted',
    run: async () => {
      const driver = kit.driver;
      if (!driver.contentStampSync) return;
      const path = kit.path();
      // two contents of one size, as two digests in a link file are
      await driver.putContent(path, Buffer.from(`sha256:${'a'.repeat(64)}`));
      const first = await stampOnceGiven(driver, path);
      // a driver may give none where it cannot vouch for its stamps (the filesystem driver on NFS)
      if (first === undefined) return;
      expect(driver.contentStampSync(path)).toBe(first);

      await driver.putContent(path, Buffer.from(`sha256:${'b'.repeat(64)}`));
      expect(driver.contentStampSync(path)).not.toBe(first);
      const second = await stampOnceGiven(driver, path);
      expect(second).not.toBe(first);

      await driver.delete(path);
      expect(driver.contentStampSync(path)).toBeUndefined();
      expect(driver.contentStampSync(`${path}-missing`)).toBeUndefined();
    },
  });
}

/** The object's stamp once the driver gives one (polled), or undefined when it gives none within STAMP_WAIT_MS. */
async function stampOnceGiven(driver: StorageDriver, path: string): Promise<string | undefined> {
  const deadline = Date.now() + STAMP_WAIT_MS;
  for (;;) {
    const stamp = driver.contentStampSync!(path);
    if (stamp !== undefined || Date.now() > deadline) return stamp;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
