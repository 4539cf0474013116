/**
 * `putContents` and puts of unchanged bytes on the filesystem: objects are shown in the order given (a new
 * folder with everything the call puts below it), what was asked is stored whatever other writers do to the
 * folders meanwhile, nothing temporary is left, and a link put again with the same bytes keeps its file and
 * gets a new modification time (garbage collection and retention read it as the last push).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
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
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-ordered-'));
  roots.push(root);
  return { driver: await createDriver({ rootdirectory: root }, createDriverContext('filesystem')), root };
}

const temporaries = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true })).filter((entry) => entry.includes('~'));
const text = async (driver: StorageDriver, path: string): Promise<string> => Buffer.from(await driver.getContent(path)).toString();
const link = (path: string, content: string) => ({ path, content: Buffer.from(content) });

const REVISION = '/r/app/_manifests/revisions/sha256/aa/link';
const tagLinks = (tag: string, digest: string) => [link(`/r/app/_manifests/tags/${tag}/current/link`, digest), link(`/r/app/_manifests/tags/${tag}/index/sha256/${digest}/link`, digest)];

describe('filesystem: ordered puts', () => {
  it('stores every object, a new folder appearing with all of its objects, and leaves no temporary behind', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/r/app/_manifests/tags/old/current/link', Buffer.from('old'));
    const objects = [link(REVISION, 'aa'), ...tagLinks('new', 'aa'), link('/r/app/_manifests/tags/old/current/link', 'aa')];
    // watched between the event loop's turns while the call's syncs run: no object without those before it
    const seen: string[][] = [];
    let watching = true;
    const watch = (): void => {
      seen.push(objects.filter(({ path }) => existsSync(join(root, path)) && statSync(join(root, path)).size === 2).map(({ path }) => path));
      if (watching) setImmediate(watch);
    };
    watch();
    await driver.putContents!(objects);
    watching = false;
    for (const { path, content } of objects) expect(await text(driver, path), path).toBe(content.toString());
    expect(await temporaries(root)).toEqual([]);
    for (const shown of [...seen, objects.map(({ path }) => path)]) expect(shown, 'a prefix of the list').toEqual(objects.slice(0, shown.length).map(({ path }) => path));
  });

  it('two calls racing for the same new folder both store what they asked, one through single puts', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent(REVISION, Buffer.from('aa'));
    await Promise.all([driver.putContents!(tagLinks('race', 'aa')), driver.putContents!(tagLinks('race', 'bb'))]);
    expect(['aa', 'bb']).toContain(await text(driver, '/r/app/_manifests/tags/race/current/link'));
    expect((await driver.list('/r/app/_manifests/tags/race/index/sha256')).sort()).toEqual(['aa', 'bb'].map((d) => `/r/app/_manifests/tags/race/index/sha256/${d}`));
    expect(await temporaries(root)).toEqual([]);
  });

  it('a call whose signal aborts while its files are synced shows none of them and leaves nothing behind', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent(REVISION, Buffer.from('aa'));
    const stop = new AbortController();
    const put = driver.putContents!([link('/r/app/_manifests/revisions/sha256/bb/link', 'bb'), ...tagLinks('stopped', 'bb')], stop.signal);
    stop.abort();
    await expect(put).rejects.toThrow();
    expect(await readdir(join(root, 'r/app/_manifests/revisions/sha256'))).toEqual(['aa']);
    expect(existsSync(join(root, 'r/app/_manifests/tags'))).toBe(false);
    expect(await temporaries(root)).toEqual([]);
  });
});

describe('filesystem: a put of the bytes an object holds', () => {
  it('keeps the file and advances its modification time; other bytes replace it', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent(REVISION, Buffer.from('sha256:aa'));
    const file = join(root, REVISION);
    const weekAgo = new Date(Date.now() - 7 * 24 * 3600_000);
    await utimes(file, weekAgo, weekAgo);
    const before = statSync(file);

    await driver.putContent(REVISION, Buffer.from('sha256:aa'));
    const kept = statSync(file);
    expect(kept.ino, 'the same file').toBe(before.ino);
    expect(kept.mtimeMs).toBeGreaterThan(before.mtimeMs + 6 * 24 * 3600_000);
    expect((await driver.stat(REVISION)).modTime.getTime()).toBe(kept.mtime.getTime());

    await utimes(file, weekAgo, weekAgo);
    await driver.putContents!([link(REVISION, 'sha256:aa')]);
    expect(statSync(file).mtimeMs, 'through putContents too').toBeGreaterThan(before.mtimeMs + 6 * 24 * 3600_000);

    await driver.putContent(REVISION, Buffer.from('sha256:bb'));
    expect(await text(driver, REVISION)).toBe('sha256:bb');
    expect(await temporaries(root)).toEqual([]);
  });
});
