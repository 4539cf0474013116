/** Many readers of one object, many writers at once: nothing hangs, nothing mixes up. */
import { randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { KitHarness } from '../harness.js';
import { Pattern, digestStream } from '../pattern.js';
import { describeBytes, writeStream } from './streams.js';

export function concurrencyTests(kit: KitHarness): void {
  const { sizes } = kit;
  const slowStoreMs = (bytes: number): number => Math.max(60_000, (bytes / (1024 * 1024)) * 1000);

  kit.test({
    id: 'ConcurrentStreamReads',
    sentence: `${sizes.concurrentReaders} readers at random offsets of one ${describeBytes(sizes.concurrentReadBytes)} object each read exactly its tail`,
    timeoutMs: slowStoreMs(sizes.concurrentReadBytes * (sizes.concurrentReaders + 1)),
    run: async () => {
      const path = kit.path();
      const pattern = new Pattern(sizes.concurrentReadBytes);
      await writeStream(kit.driver, path, pattern.chunks());
      await Promise.all(
        Array.from({ length: sizes.concurrentReaders }, async () => {
          const offset = randomInt(pattern.size);
          const digest = await digestStream(await kit.driver.reader(path, offset));
          expect(digest, `reader at offset ${offset}`).toEqual({ bytes: pattern.size - offset, sha256: pattern.sha256(offset) });
        }),
      );
    },
  });

  kit.test({
    id: 'ConcurrentFileStreams',
    sentence: `${sizes.concurrentStreams} writer streams of ${describeBytes(sizes.concurrentStreamBytes)} at once all commit and read back intact`,
    timeoutMs: slowStoreMs(2 * sizes.concurrentStreams * sizes.concurrentStreamBytes),
    run: async () => {
      await Promise.all(
        Array.from({ length: sizes.concurrentStreams }, async () => {
          const path = kit.path();
          const pattern = new Pattern(sizes.concurrentStreamBytes);
          expect(await writeStream(kit.driver, path, pattern.chunks(0, pattern.size, 256 * 1024))).toBe(pattern.size);
          expect(await digestStream(await kit.driver.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
        }),
      );
    },
  });
}
