/** The reader and the resumable writer: streamed round trips, offsets, appends across reopened writers. */
import { randomBytes, randomInt } from 'node:crypto';
import { expect } from 'vitest';
import type { StorageDriver } from '../../storage/driver.js';
import type { KitHarness } from '../harness.js';
import { Pattern, digestStream, readSmallStream } from '../pattern.js';

/** Writes chunks through one writer, commits and closes it; returns the writer's final size. */
export async function writeStream(driver: StorageDriver, path: string, chunks: Iterable<Uint8Array>, append = false): Promise<number> {
  const writer = await driver.writer(path, append);
  for (const chunk of chunks) await writer.write(chunk);
  await writer.commit();
  await writer.close();
  return writer.size;
}

/** Writes `pattern` through a writer reusing one buffer, so a driver that keeps a chunk after write() resolves is caught. */
async function writePatternReusingBuffer(driver: StorageDriver, path: string, pattern: Pattern): Promise<number> {
  const writer = await driver.writer(path, false);
  const buffer = Buffer.allocUnsafe(Math.min(pattern.size, 1024 * 1024));
  for (let at = 0; at < pattern.size; at += buffer.length) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, pattern.size - at));
    pattern.fill(chunk, at);
    await writer.write(chunk);
  }
  await writer.commit();
  await writer.close();
  return writer.size;
}

const readAt = async (driver: StorageDriver, path: string, offset: number): Promise<Buffer> =>
  readSmallStream(await driver.reader(path, offset));

export function streamTests(kit: KitHarness): void {
  const { sizes } = kit;
  // Time for a stream of `bytes` even on a slow store (1 MiB/s), never under a minute.
  const timeoutFor = (bytes: number): number => Math.max(60_000, (bytes / (1024 * 1024)) * 1000);

  const streamRoundTrip = async (content: Buffer): Promise<void> => {
    const path = kit.path();
    expect(await writeStream(kit.driver, path, [content])).toBe(content.length);
    expect((await readAt(kit.driver, path, 0)).equals(content)).toBe(true);
  };

  kit.test({ id: 'WriteReadStreams1', sentence: 'a one-byte stream reads back as written', run: () => streamRoundTrip(Buffer.from('a')) });
  kit.test({ id: 'WriteReadStreams2', sentence: 'a UTF-8 stream reads back as written', run: () => streamRoundTrip(Buffer.from('\u00df')) });
  kit.test({ id: 'WriteReadStreams3', sentence: 'a 32-byte random stream reads back as written', run: () => streamRoundTrip(randomBytes(32)) });
  kit.test({ id: 'WriteReadStreams4', sentence: 'a 1 MiB random stream reads back as written', run: () => streamRoundTrip(randomBytes(1024 * 1024)) });
  kit.test({
    id: 'WriteReadStreamsNonUTF8',
    sentence: 'a stream of bytes that are not UTF-8 reads back as written',
    run: () => streamRoundTrip(Buffer.from([0x80, 0x80, 0x80, 0x80])),
  });

  kit.test({
    id: 'WriteReadLargeStreams',
    sentence: `a ${describeBytes(sizes.largeStreamBytes)} stream written with a reused buffer reads back with the same SHA-256`,
    timeoutMs: timeoutFor(sizes.largeStreamBytes) * 2,
    run: async () => {
      const path = kit.path();
      const pattern = new Pattern(sizes.largeStreamBytes);
      const written = await writePatternReusingBuffer(kit.driver, path, pattern);
      expect(written).toBe(pattern.size);
      expect((await kit.driver.stat(path)).size).toBe(pattern.size);
      expect(await digestStream(await kit.driver.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
    },
  });

  kit.test({
    id: 'ReaderWithOffset',
    sentence: 'a reader starts at its offset; offset == size yields 0 bytes, size-1 yields the last byte, -1 is INVALID_OFFSET',
    run: async () => {
      const path = kit.path();
      const content = randomBytes(96);
      await kit.driver.putContent(path, content);
      for (const offset of [0, 32, 64]) expect((await readAt(kit.driver, path, offset)).equals(content.subarray(offset)), `offset ${offset}`).toBe(true);
      await kit.expectError(kit.driver.reader(path, -1), 'INVALID_OFFSET', path);
      expect((await readAt(kit.driver, path, 96)).length).toBe(0);
      expect(await readAt(kit.driver, path, 95)).toEqual(content.subarray(95));
    },
  });

  kit.test({
    id: 'ByteRanges',
    sentence: 'a reader at any offset of an object yields exactly the bytes from that offset on',
    run: async () => {
      const path = kit.path();
      const content = randomBytes(64 * 1024 + 7);
      await kit.driver.putContent(path, content);
      for (let i = 0; i < 8; i++) {
        const offset = randomInt(content.length + 1);
        expect((await readAt(kit.driver, path, offset)).equals(content.subarray(offset)), `offset ${offset}`).toBe(true);
      }
    },
  });

  const continueStreamAppend = async (chunkBytes: number): Promise<void> => {
    const path = kit.path();
    const pattern = new Pattern(3 * chunkBytes);
    const chunk = (n: number): Buffer => pattern.slice(n * chunkBytes, (n + 1) * chunkBytes);

    const first = await kit.driver.writer(path, false);
    await first.write(chunk(0));
    await first.close();
    expect(first.size).toBe(chunkBytes);

    const second = await kit.driver.writer(path, true);
    expect(second.size, 'a reopened writer reports what was written before').toBe(chunkBytes);
    await second.write(chunk(1));
    await second.close();
    expect(second.size).toBe(2 * chunkBytes);

    const third = await kit.driver.writer(path, true);
    expect(third.size).toBe(2 * chunkBytes);
    await third.write(chunk(2));
    await third.commit();
    await third.close();
    expect(third.size).toBe(3 * chunkBytes);

    expect(await digestStream(await kit.driver.reader(path, 0))).toEqual({ bytes: pattern.size, sha256: pattern.sha256() });
  };

  kit.test({
    id: 'ContinueStreamAppendLarge',
    sentence: `a writer closed and reopened twice in append mode commits all three ${describeBytes(sizes.appendChunkBytes)} chunks in order`,
    timeoutMs: timeoutFor(3 * sizes.appendChunkBytes) * 2,
    run: () => continueStreamAppend(sizes.appendChunkBytes),
  });

  kit.test({
    id: 'ContinueStreamAppendSmall',
    sentence: 'a writer closed and reopened twice in append mode commits all three 32-byte chunks in order',
    run: () => continueStreamAppend(32),
  });

  kit.test({
    id: 'ReadNonexistentStream',
    sentence: 'a reader on a missing object fails with PATH_NOT_FOUND at offset 0 and 64',
    run: async () => {
      const path = kit.path();
      await kit.expectError(kit.driver.reader(path, 0), 'PATH_NOT_FOUND', path);
      await kit.expectError(kit.driver.reader(path, 64), 'PATH_NOT_FOUND', path);
    },
  });

  kit.test({
    id: 'WriteZeroByteStreamThenAppend',
    sentence: 'an empty committed stream can be appended to by a new writer',
    run: async () => {
      const path = kit.path();
      expect(await writeStream(kit.driver, path, [])).toBe(0);
      expect((await readAt(kit.driver, path, 0)).length).toBe(0);
      const chunk = randomBytes(32);
      expect(await writeStream(kit.driver, path, [chunk], true)).toBe(32);
      expect((await readAt(kit.driver, path, 0)).equals(chunk)).toBe(true);
    },
  });

  kit.test({
    id: 'WriteZeroByteContentThenAppend',
    sentence: 'empty content put whole can be appended to by a writer',
    run: async () => {
      const path = kit.path();
      await kit.driver.putContent(path, new Uint8Array(0));
      const chunk = randomBytes(32);
      expect(await writeStream(kit.driver, path, [chunk], true)).toBe(32);
      expect((await readAt(kit.driver, path, 0)).equals(chunk)).toBe(true);
    },
  });

  kit.test({
    id: 'UncommittedInvisible',
    sentence: 'what a writer wrote is not readable at its path until it is committed',
    run: async () => {
      const path = kit.path();
      const writer = await kit.driver.writer(path, false);
      await writer.write(randomBytes(32));
      await writer.close();
      await kit.expectError(kit.driver.getContent(path), 'PATH_NOT_FOUND', path);
      const resumed = await kit.driver.writer(path, true);
      expect(resumed.size).toBe(32);
      await resumed.cancel();
      await resumed.close();
    },
  });

  kit.test({
    id: 'WriterCancel',
    sentence: 'a cancelled writer leaves nothing behind, and a new appending writer starts empty',
    run: async () => {
      const path = kit.path();
      const writer = await kit.driver.writer(path, false);
      await writer.write(randomBytes(64));
      await writer.cancel();
      await writer.close();
      await kit.expectError(kit.driver.getContent(path), 'PATH_NOT_FOUND', path);
      const fresh = await kit.driver.writer(path, true);
      expect(fresh.size).toBe(0);
      await fresh.cancel();
      await fresh.close();
    },
  });
}

export function describeBytes(bytes: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [unit, name] of units) if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  return `${bytes}-byte`;
}
