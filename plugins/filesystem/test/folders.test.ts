/**
 * New folders appear whole, and deleted folders leave whole: a listing never shows a folder without the
 * object it was made for (the driver contract's listing rule, which the registry's tag list relies on).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-folders-'));
  roots.push(root);
  return { driver: await createDriver({ rootdirectory: root }, createDriverContext('filesystem')), root };
}

/** Every entry under `dir` whose name has a `~` (temporary files and folders), relative to it. */
async function temporaries(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.includes('~'));
}

describe('filesystem: folders appear with their object and leave whole', () => {
  it('a put into folders that do not exist yet, stopped before it completes, leaves no folder behind', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/tags/kept/current/link', Buffer.from('kept'));
    const stop = new AbortController();
    // large enough that the write is still under way when the abort lands
    const put = driver.putContent('/tags/new/current/link', Buffer.alloc(64 * 1024 * 1024, 1), stop.signal);
    setImmediate(() => stop.abort());
    await expect(put).rejects.toThrow();
    expect(await driver.list('/tags')).toEqual(['/tags/kept']);
    expect(await readdir(join(root, 'tags'))).toEqual(['kept']);
  });

  it('concurrent puts that need the same new folders all land, and leave no temporary behind', async () => {
    const { driver, root } = await driverOnFreshRoot();
    const paths = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? `/r/app/_manifests/tags/t${i % 6}/current/link` : `/r/app/_layers/sha256/h${i}/link`));
    await Promise.all(paths.map((path, i) => driver.putContent(path, Buffer.from(`content ${i}`))));
    for (const path of paths) {
      // writes to one path race: it holds one of them, whole
      const written = paths.flatMap((p, j) => (p === path ? [`content ${j}`] : []));
      expect(written).toContain(Buffer.from(await driver.getContent(path)).toString());
    }
    expect((await driver.list('/r/app/_manifests/tags')).sort()).toEqual([0, 2, 4].map((t) => `/r/app/_manifests/tags/t${t}`));
    expect(await temporaries(root)).toEqual([]);
  });

  it('a put into an existing folder writes in place, beside the other objects', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/a/b/one', Buffer.from('1'));
    await driver.putContent('/a/b/two', Buffer.from('2'));
    await driver.putContent('/a/b/one', Buffer.from('3'));
    expect((await driver.list('/a/b')).sort()).toEqual(['/a/b/one', '/a/b/two']);
    expect(Buffer.from(await driver.getContent('/a/b/one')).toString()).toBe('3');
    expect(await temporaries(root)).toEqual([]);
  });

  it('a deleted folder leaves its parent whole and leaves no temporary behind', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/tags/gone/current/link', Buffer.from('x'));
    await driver.putContent('/tags/gone/index/sha256/aa/link', Buffer.from('x'));
    await driver.putContent('/tags/kept/current/link', Buffer.from('y'));
    await driver.delete('/tags/gone');
    expect(await driver.list('/tags')).toEqual(['/tags/kept']);
    expect(await temporaries(root)).toEqual([]);
    await expect(driver.delete('/tags/gone')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });
});
