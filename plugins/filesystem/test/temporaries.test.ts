import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
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
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-temporaries-'));
  roots.push(root);
  return { driver: await createDriver({ rootdirectory: root }, createDriverContext('filesystem')), root };
}

/** What a process killed between writing a temporary file and renaming it leaves, `ageMs` ago. */
async function leaveTemporary(root: string, relative: string, ageMs: number): Promise<string> {
  const file = join(root, relative);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, 'half of a link');
  const when = new Date(Date.now() - ageMs);
  await utimes(file, when, when);
  return file;
}

describe('filesystem: temporary files of interrupted writes', () => {
  it('purgeTemporaries removes leftovers older than the cut-off and keeps newer ones, objects and partial uploads', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/repositories/app/_manifests/tags/v1/current/link', Buffer.from('sha256:aa'));
    const writer = await driver.writer('/repositories/app/_uploads/u1/data', false);
    await writer.write(Buffer.from('partial upload'));
    await writer.close();
    await leaveTemporary(root, 'repositories/app/_manifests/tags/v1/current/link~0123456789ab.tmp', 3_600_000);
    await leaveTemporary(root, 'blobs/sha256/aa/aa/data~ffffffffffff.tmp', 3_600_000);
    await leaveTemporary(root, 'repositories/app/_layers/sha256/bb/link~abcdefabcdef.tmp', 1_000);

    const cutOff = new Date(Date.now() - 60_000);
    const dry = await driver.purgeTemporaries!(cutOff, true);
    expect(dry.sort()).toEqual(['/blobs/sha256/aa/aa/data~ffffffffffff.tmp', '/repositories/app/_manifests/tags/v1/current/link~0123456789ab.tmp']);
    expect(await readdir(join(root, 'blobs/sha256/aa/aa'))).toEqual(['data~ffffffffffff.tmp']);

    expect((await driver.purgeTemporaries!(cutOff, false)).sort()).toEqual(dry.sort());
    expect(await readdir(join(root, 'blobs/sha256/aa/aa'))).toEqual([]);
    expect((await readdir(join(root, 'repositories/app/_manifests/tags/v1/current'))).sort()).toEqual(['link']);
    expect(await readdir(join(root, 'repositories/app/_layers/sha256/bb'))).toEqual(['link~abcdefabcdef.tmp']);
    expect(Buffer.from(await driver.getContent('/repositories/app/_manifests/tags/v1/current/link')).toString()).toBe('sha256:aa');
    expect((await driver.writer('/repositories/app/_uploads/u1/data', true)).size).toBe(14);
  });

  it('folders a crash left part-built or part-deleted are not listed, and purgeTemporaries removes them whole', async () => {
    const { driver, root } = await driverOnFreshRoot();
    await driver.putContent('/repositories/app/_manifests/tags/v1/current/link', Buffer.from('sha256:aa'));
    // a tag folder being built beside its place, and one being deleted, when the process died
    await leaveTemporary(root, 'repositories/app/_manifests/tags/v2~0123456789ab.tmp/current/link', 3_600_000);
    await leaveTemporary(root, 'repositories/app/_manifests/tags/v0~abcdefabcdef.tmp/index/sha256/aa/link', 3_600_000);
    const old = new Date(Date.now() - 3_600_000);
    for (const folder of ['v2~0123456789ab.tmp', 'v0~abcdefabcdef.tmp']) await utimes(join(root, 'repositories/app/_manifests/tags', folder), old, old);
    expect(await driver.list('/repositories/app/_manifests/tags')).toEqual(['/repositories/app/_manifests/tags/v1']);

    const removed = await driver.purgeTemporaries!(new Date(Date.now() - 60_000), false);
    expect(removed.sort()).toEqual(['/repositories/app/_manifests/tags/v0~abcdefabcdef.tmp', '/repositories/app/_manifests/tags/v2~0123456789ab.tmp']);
    expect(await readdir(join(root, 'repositories/app/_manifests/tags'))).toEqual(['v1']);
  });

  it('purgeTemporaries on an empty root finds nothing', async () => {
    const { driver } = await driverOnFreshRoot();
    expect(await driver.purgeTemporaries!(new Date(), false)).toEqual([]);
  });
});
