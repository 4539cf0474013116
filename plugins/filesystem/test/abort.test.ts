/**
 * The filesystem driver stops work for a client that went away: the signal of a call destroys the reader's
 * stream (closing the file) and stops a writer before it writes or commits. Called on the driver itself,
 * not through stowage's wrapper, which already refuses calls whose signal aborted before they start.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAtOf, type StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { READ_CHUNK_SIZE } from '../src/driver.js';
import { createDriver } from '../src/index.js';

let root: string;
let driver: StorageDriver;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-abort-'));
  driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const isAbort = (err: unknown): boolean => (err as Error).name === 'AbortError';

describe('the filesystem driver and an aborted signal', () => {
  it('destroys a reader mid-object and closes its file', async () => {
    await driver.putContent('/big', randomBytes(4 * READ_CHUNK_SIZE));
    const client = new AbortController();
    const stream = await driver.reader('/big', 0, client.signal);
    const failed = once(stream, 'error');
    const [first] = (await once(stream, 'data')) as [Buffer];
    expect(first.length).toBeGreaterThan(0);
    stream.pause();
    client.abort();
    const [err] = (await failed) as [Error];
    expect(isAbort(err)).toBe(true);
    if (!stream.closed) await once(stream, 'close');
    // the file handle went with the stream: a positional read on it fails
    await expect(readAtOf(stream)!(Buffer.alloc(16), 16, 0)).rejects.toMatchObject({ code: 'EBADF' });
  });

  it('writes nothing more once the signal aborted, and commits nothing', async () => {
    const client = new AbortController();
    const writer = await driver.writer('/up/data', false, client.signal);
    await writer.write(Buffer.from('kept'), client.signal);
    client.abort();
    await expect(writer.write(Buffer.from('dropped'), client.signal)).rejects.toSatisfy(isAbort);
    expect(writer.size).toBe(4);
    await expect(writer.commit(client.signal)).rejects.toSatisfy(isAbort);
    await writer.close();
    expect(existsSync(join(root, 'up', 'data')), 'no object after an aborted commit').toBe(false);
    expect(readFileSync(join(root, 'up', 'data~partial'), 'utf8')).toBe('kept');
    expect(await driver.uploadSize('/up/data')).toBe(4);
  });

  it('creates no folder for a writer whose first write comes after the abort', async () => {
    const client = new AbortController();
    const writer = await driver.writer('/fresh/dir/data', false, client.signal);
    client.abort();
    await expect(writer.write(Buffer.from('x'), client.signal)).rejects.toSatisfy(isAbort);
    await writer.close();
    expect(readdirSync(root)).toEqual([]);
  });

  it('reads and replaces no whole object for an aborted signal', async () => {
    await driver.putContent('/small', Buffer.from('old'));
    const gone = AbortSignal.abort();
    await expect(driver.getContent('/small', gone)).rejects.toSatisfy(isAbort);
    await expect(driver.putContent('/small', Buffer.from('new'), gone)).rejects.toSatisfy(isAbort);
    expect(readFileSync(join(root, 'small'), 'utf8')).toBe('old');
  });
});
