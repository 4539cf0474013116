/**
 * The filesystem writer holds a raw descriptor on its partial file: every way a caller can stop using a
 * writer lets go of it. Counted in /proc/self/fd by what each descriptor points to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { descriptorsUnder } from '../../../test/support/open-descriptors.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { wrapDriver } from '../../../src/storage/base.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';

let root: string;
let driver: StorageDriver;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-descriptors-'));
  driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const storageDescriptors = (): string[] => descriptorsUnder(root);

const bytes = new Uint8Array(64 * 1024).fill(7);

describe("the filesystem writer's descriptor", () => {
  it('is open while a writer is written to, and closed by close, cancel and commit', async () => {
    const written = await driver.writer('/open/closed', false);
    await written.write(bytes);
    expect(storageDescriptors()).toHaveLength(1);
    await written.close();
    const cancelled = await driver.writer('/open/cancelled', false);
    await cancelled.write(bytes);
    await cancelled.cancel();
    const committed = await driver.writer('/open/committed', false);
    await committed.write(bytes);
    await committed.commit();
    await committed.close();
    expect(storageDescriptors()).toEqual([]);
  });

  it('is closed when the writer is closed while its first write is still opening the file', async () => {
    const writer = await driver.writer('/racing/close', false);
    const writing = writer.write(bytes);
    await writer.close();
    await expect(writing).rejects.toThrow(/closed writer/);
    expect(storageDescriptors()).toEqual([]);
    // nothing was appended, so the size is free for the next writer
    const next = await driver.writer('/racing/close', true);
    await next.write(bytes);
    await next.commit();
    await next.close();
    expect((await driver.stat('/racing/close')).size).toBe(bytes.length);
  });

  it("is closed by the wrapper's close when the request's signal has aborted (a client gone mid-commit)", async () => {
    const wrapped = wrapDriver(driver);
    const client = new AbortController();
    const writer = await wrapped.writer('/aborted/commit', false, client.signal);
    await writer.write(bytes, client.signal);
    client.abort();
    await expect(writer.commit(client.signal)).rejects.toThrow();
    expect(storageDescriptors()).toHaveLength(1);
    await writer.close(client.signal);
    expect(storageDescriptors()).toEqual([]);
  });
});
