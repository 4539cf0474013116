import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function driverOnFreshRoot(): Promise<{ driver: StorageDriver; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-removal-'));
  roots.push(root);
  return { driver: await createDriver({ rootdirectory: root }, createDriverContext('filesystem')), root };
}

const isPathNotFound = (err: unknown): boolean => (err as { code?: unknown }).code === 'PATH_NOT_FOUND';

describe('filesystem: stat and folder removal, small ones with synchronous calls', () => {
  it('stat answers files and folders, and PATH_NOT_FOUND for a missing path and for a path below a file', async () => {
    const { driver } = await driverOnFreshRoot();
    await driver.putContent('/a/b/file', Buffer.from('12345'));
    expect(await driver.stat('/a/b/file')).toMatchObject({ path: '/a/b/file', size: 5, isDir: false });
    expect(await driver.stat('/a/b')).toMatchObject({ path: '/a/b', size: 0, isDir: true });
    expect((await driver.stat('/a/b/file')).modTime).toBeInstanceOf(Date);
    for (const missing of ['/a/b/other', '/a/c/file', '/a/b/file/below']) {
      const refused = await driver.stat(missing).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isPathNotFound(refused), missing).toBe(true);
    }
  });

  it('delete removes a folder whole whatever it holds: a listing larger than a block, files large and small, an upload, folders in folders', async () => {
    const { driver, root } = await driverOnFreshRoot();
    // 300 names: the folder is larger than one 4 KiB block, so it is listed on the thread pool
    for (let i = 0; i < 300; i++) await driver.putContent(`/repo/many/entry-with-a-long-name-${String(i).padStart(4, '0')}`, Buffer.from([i % 256]));
    // a file above the small-file size is unlinked on the thread pool, the small ones synchronously
    await driver.putContent('/repo/few/large', Buffer.alloc(256 * 1024, 7));
    await driver.putContent('/repo/few/small', Buffer.from('small'));
    await driver.putContent('/repo/few/deeper/still/small', Buffer.from('deep'));
    const writer = await driver.writer('/repo/few/_uploads/u1/data', false);
    await writer.write(Buffer.alloc(100 * 1024, 1));
    await writer.close();
    await driver.putContent('/repo/kept', Buffer.from('kept'));
    expect((await stat(join(root, 'repo/many'))).size).toBeGreaterThan(4096);

    await driver.delete('/repo/many');
    await driver.delete('/repo/few');

    // nothing left, not even a folder renamed aside
    expect(await readdir(join(root, 'repo'))).toEqual(['kept']);
    for (const gone of ['/repo/many', '/repo/few', '/repo/few/large', '/repo/few/_uploads/u1/data']) {
      const refused = await driver.stat(gone).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isPathNotFound(refused), gone).toBe(true);
    }
    expect(Buffer.from(await driver.getContent('/repo/kept')).toString()).toBe('kept');
    // deleting it again: PATH_NOT_FOUND, as before
    const again = await driver.delete('/repo/few').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isPathNotFound(again)).toBe(true);
  });
});
