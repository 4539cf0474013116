import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wrapDriver } from '../../../src/storage/base.js';
import { readAtOf, type StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { READ_CHUNK_SIZE } from '../src/driver.js';
import { createDriver } from '../src/index.js';

let root: string;
let driver: StorageDriver;
const path = '/docker/registry/v2/blobs/sha256/ab/abcd/data';

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-reader-'));
  driver = wrapDriver(createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function chunksOf(stream: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return chunks;
}

const closed = (stream: Readable): Promise<void> => (stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve())));

describe('the filesystem reader', () => {
  it('streams in READ_CHUNK_SIZE chunks, the last one cut to the object size', async () => {
    const content = randomBytes(2 * READ_CHUNK_SIZE + 1000);
    await driver.putContent(path, content);
    const chunks = await chunksOf(await driver.reader(path, 10));
    expect(chunks.map((c) => c.length)).toEqual([READ_CHUNK_SIZE, READ_CHUNK_SIZE, 990]);
    expect(Buffer.compare(Buffer.concat(chunks), content.subarray(10))).toBe(0);
  });

  it('offers READ_AT: positional reads of the whole object, whatever offset the stream was opened at', async () => {
    const content = randomBytes(3 * READ_CHUNK_SIZE + 17);
    await driver.putContent(path, content);
    const stream = await driver.reader(path, 5000);
    const readAt = readAtOf(stream);
    expect(readAt).toBeDefined();
    const buffer = Buffer.alloc(READ_CHUNK_SIZE);
    expect(await readAt!(buffer, 100, 0)).toBe(100);
    expect(Buffer.compare(buffer.subarray(0, 100), content.subarray(0, 100))).toBe(0);
    expect(await readAt!(buffer, READ_CHUNK_SIZE, 2 * READ_CHUNK_SIZE + 1)).toBe(READ_CHUNK_SIZE);
    expect(Buffer.compare(buffer, content.subarray(2 * READ_CHUNK_SIZE + 1, 3 * READ_CHUNK_SIZE + 1))).toBe(0);
    expect(await readAt!(buffer, READ_CHUNK_SIZE, 3 * READ_CHUNK_SIZE)).toBe(17);
    expect(await readAt!(buffer, READ_CHUNK_SIZE, content.length)).toBe(0);
    // destroying the stream, never read, releases the file
    stream.destroy();
    await closed(stream);
    await expect(readAt!(buffer, 10, 0)).rejects.toThrow();
  });

  it('keeps reading the object it opened when the path is replaced meanwhile', async () => {
    const first = randomBytes(READ_CHUNK_SIZE + 5);
    await driver.putContent(path, first);
    const stream = await driver.reader(path, 0);
    await driver.putContent(path, randomBytes(10));
    const buffer = Buffer.alloc(first.length);
    let read = 0;
    while (read < first.length) read += await readAtOf(stream)!(buffer.subarray(read), first.length - read, read);
    expect(Buffer.compare(buffer, first)).toBe(0);
    expect(Buffer.compare(Buffer.concat(await chunksOf(stream)), first)).toBe(0);
  });

  it('at offset == size yields an empty stream and holds no file open', async () => {
    await driver.putContent(path, Buffer.from('abc'));
    const stream = await driver.reader(path, 3);
    expect(await chunksOf(stream)).toEqual([]);
    expect(await chunksOf(await driver.reader(path, 7))).toEqual([]);
  });
});
