/**
 * A writer's optional `commitTo` (the filesystem driver has it): the content becomes visible at another path
 * (an upload's verified bytes at their content address, in a folder that does not exist yet), whole, and the
 * upload's own path keeps nothing of it; every wrapper the registry puts around a driver (validation, a
 * request's signal, metrics, the caches) passes the call through, and a path outside the storage grammar is
 * refused before anything moves.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { instrumentDriver } from '../../src/storage/instrumented.js';
import { withSignal } from '../../src/storage/signal.js';
import { createDriverContext } from '../../src/testing/index.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function filesystemDriver(): Promise<{ driver: StorageDriver; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-commit-to-'));
  roots.push(root);
  return { driver: wrapDriver(await createDriver({ rootdirectory: root }, createDriverContext('filesystem'))), root };
}

describe("a filesystem writer's commitTo", () => {
  it('makes the content visible whole at the other path, in new folders, and leaves nothing at the upload', async () => {
    const { driver, root } = await filesystemDriver();
    const [head, tail] = [randomBytes(300_000), randomBytes(5_000)];
    const first = await driver.writer('/uploads/u1/data', false);
    await first.write(head);
    await first.close();
    const writer = await driver.writer('/uploads/u1/data', true);
    await writer.write(tail);
    await writer.commitTo!('/blobs/ab/abcdef/data');
    await writer.close();

    expect(Buffer.from(await driver.getContent('/blobs/ab/abcdef/data')).equals(Buffer.concat([head, tail]))).toBe(true);
    await expect(driver.uploadSize('/uploads/u1/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    // no partial file, no claim: the upload's folder is empty
    expect(readdirSync(join(root, 'uploads/u1'))).toEqual([]);
  });

  it('is passed through by the request-signal, metrics and validation wrappers', async () => {
    const { driver, root } = await filesystemDriver();
    const measured = instrumentDriver(driver, { operation: () => undefined });
    const scoped = withSignal(measured, new AbortController().signal);
    const writer = await scoped.writer('/uploads/u2/data', false);
    expect(typeof writer.commitTo).toBe('function');
    const bytes = randomBytes(10_000);
    await writer.write(bytes);
    await writer.commitTo!('/blobs/cd/cdef/data');
    await writer.close();
    expect(readFileSync(join(root, 'blobs/cd/cdef/data')).equals(bytes)).toBe(true);
  });

  it('refuses a path outside the storage grammar and moves nothing', async () => {
    const { driver, root } = await filesystemDriver();
    const writer = await driver.writer('/uploads/u3/data', false);
    await writer.write(randomBytes(1_000));
    await expect(writer.commitTo!('/blobs/../escape')).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await writer.close();
    expect(existsSync(join(root, 'escape'))).toBe(false);
    expect(await driver.uploadSize('/uploads/u3/data')).toBe(1_000);
  });
});
