import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';

const roots: string[] = [];
const drivers: StorageDriver[] = [];
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close?.();
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function driverOnFreshRoot(): Promise<{ driver: StorageDriver; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-spares-'));
  roots.push(root);
  const driver = await createDriver({ rootdirectory: root }, createDriverContext('filesystem'));
  drivers.push(driver);
  return { driver, root };
}

const UPLOADS = '/repositories/app/_uploads';
/** the inode and its birth time: a number the kernel hands out again after a removal comes with a new birth time */
const inodeOf = async (root: string, path: string): Promise<string> => {
  const info = await stat(join(root, path), { bigint: true });
  return `${info.ino}@${info.birthtimeNs}`;
};

/** A session as the registry makes and ends it: startedat put volatile in a new folder, the folder deleted. */
async function startAndEnd(driver: StorageDriver, id: string, startedAt: string): Promise<void> {
  await driver.putVolatile!(`${UPLOADS}/${id}/startedat`, Buffer.from(startedAt));
  await driver.delete(`${UPLOADS}/${id}`);
}

describe('filesystem: a folder deleted with one small file is reused by the next volatile put beside it', () => {
  it('the next session gets the ended session\'s folder and file (same inodes), holding only its own content, and nothing else is listed', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putVolatile!(`${UPLOADS}/one/startedat`, Buffer.from('2026-12-06T20:00:00Z'));
    const folderInode = await inodeOf(root, `${UPLOADS}/one`);
    const fileInode = await inodeOf(root, `${UPLOADS}/one/startedat`);
    await driver.delete(`${UPLOADS}/one`);

    await driver.putVolatile!(`${UPLOADS}/two/startedat`, Buffer.from('2026-12-06T21:00:00Z'));
    expect(await inodeOf(root, `${UPLOADS}/two`)).toBe(folderInode);
    expect(await inodeOf(root, `${UPLOADS}/two/startedat`)).toBe(fileInode);
    expect(Buffer.from(await driver.getContent(`${UPLOADS}/two/startedat`)).toString()).toBe('2026-12-06T21:00:00Z');
    expect(await readdir(join(root, UPLOADS))).toEqual(['two']);
    expect(await readdir(join(root, UPLOADS, 'two'))).toEqual(['startedat']);
    expect(await driver.list(UPLOADS)).toEqual([`${UPLOADS}/two`]);
    await expect(driver.stat(`${UPLOADS}/one`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('a reused file holds exactly the new content, shorter or longer than the old', async () => {
    const { driver } = await driverOnFreshRoot();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 5000 }), { minLength: 2, maxLength: 6 }), async (contents) => {
        for (const [index, content] of contents.entries()) {
          const path = `${UPLOADS}/s${index}/startedat`;
          await driver.putVolatile!(path, content);
          expect(Buffer.from(await driver.getContent(path)).equals(Buffer.from(content))).toBe(true);
          await driver.delete(`${UPLOADS}/s${index}`);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('keeps no folder that held more than one file or a large file, and none that no volatile put asked for', async () => {
    const { driver, root } = await driverOnFreshRoot();
    // asked for once, so folders of this place are kept from now on
    await startAndEnd(driver, 'first', 'x');
    await driver.putVolatile!(`${UPLOADS}/taken/startedat`, Buffer.from('x'));

    await driver.putVolatile!(`${UPLOADS}/two-files/startedat`, Buffer.from('x'));
    await driver.putContent(`${UPLOADS}/two-files/data`, Buffer.from('received'));
    await driver.delete(`${UPLOADS}/two-files`);
    await driver.putContent(`${UPLOADS}/large/startedat`, Buffer.alloc(8192, 1));
    await driver.delete(`${UPLOADS}/large`);
    // a link's folder: durable puts never take a spare, so its place was never asked for
    await driver.putContent('/repositories/app/_layers/sha256/aa/link', Buffer.from('sha256:aa'));
    await driver.delete('/repositories/app/_layers/sha256/aa');

    expect(await readdir(join(root, UPLOADS))).toEqual(['taken']);
    expect(await readdir(join(root, 'repositories/app/_layers/sha256'))).toEqual([]);
  });

  it('a durable put never takes a spare: its file is new and synced as before', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putVolatile!(`${UPLOADS}/one/startedat`, Buffer.from('old'));
    const fileInode = await inodeOf(root, `${UPLOADS}/one/startedat`);
    await driver.delete(`${UPLOADS}/one`);
    await driver.putContent(`${UPLOADS}/two/startedat`, Buffer.from('new'));
    expect(await inodeOf(root, `${UPLOADS}/two/startedat`)).not.toBe(fileInode);
    // the spare is still there, hidden, for the next volatile put
    const hidden = (await readdir(join(root, UPLOADS))).filter((name) => name.includes('~'));
    expect(hidden).toHaveLength(1);
    await driver.putVolatile!(`${UPLOADS}/three/startedat`, Buffer.from('three'));
    expect(await inodeOf(root, `${UPLOADS}/three/startedat`)).toBe(fileInode);
  });

  it('a spare removed behind the driver\'s back (upload purging) only means a new folder is made', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await startAndEnd(driver, 'one', 'old');
    const hidden = (await readdir(join(root, UPLOADS))).filter((name) => name.includes('~'));
    expect(hidden).toHaveLength(1);
    expect(await driver.purgeTemporaries!(new Date(Date.now() + 60_000), false)).toEqual([`${UPLOADS}/${hidden[0]}`]);
    await driver.putVolatile!(`${UPLOADS}/two/startedat`, Buffer.from('new'));
    expect(Buffer.from(await driver.getContent(`${UPLOADS}/two/startedat`)).toString()).toBe('new');
    expect(await readdir(join(root, UPLOADS))).toEqual(['two']);
  });

  it('a volatile put into a folder that exists writes there, beside what it holds, and leaves the spare for later', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await startAndEnd(driver, 'one', 'old');
    await driver.putContent(`${UPLOADS}/two/data`, Buffer.from('theirs'));
    await driver.putVolatile!(`${UPLOADS}/two/startedat`, Buffer.from('mine'));
    expect((await readdir(join(root, UPLOADS, 'two'))).sort()).toEqual(['data', 'startedat']);
    expect(await readFile(join(root, UPLOADS, 'two/data'), 'utf8')).toBe('theirs');
    expect(await readFile(join(root, UPLOADS, 'two/startedat'), 'utf8')).toBe('mine');
    expect((await readdir(join(root, UPLOADS))).filter((name) => name.includes('~'))).toHaveLength(1);
  });

  it('close removes the spares it kept', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await startAndEnd(driver, 'one', 'a');
    await startAndEnd(driver, 'two', 'b');
    await driver.putVolatile!(`${UPLOADS}/three/startedat`, Buffer.from('c'));
    await driver.delete(`${UPLOADS}/three`);
    expect((await readdir(join(root, UPLOADS))).length).toBeGreaterThan(0);
    await driver.close!();
    expect(await readdir(join(root, UPLOADS))).toEqual([]);
  });
});
