import { describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/inmemory/src/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { walkFromListing } from '../../src/storage/walk.js';
import { createDriverContext } from '../../src/testing/index.js';

async function tree(paths: string[]): Promise<StorageDriver> {
  const driver = (await createDriver({}, createDriverContext('inmemory'))) as StorageDriver;
  for (const path of paths) await driver.putContent(path, new Uint8Array(3));
  return driver;
}

const walked = async (driver: StorageDriver, from: string, startAfter?: string): Promise<string[]> => {
  const seen: string[] = [];
  await walkFromListing(driver, from, (info) => void seen.push(info.path), startAfter ? { startAfter } : {});
  return seen;
};

describe('the walk built from list and stat', () => {
  it('orders children by code unit, not by locale (uppercase before lowercase, "-" before "/")', async () => {
    const driver = await tree(['/r/b', '/r/B', '/r/a-b', '/r/a/c']);
    expect(await walked(driver, '/r')).toEqual(['/r/B', '/r/a', '/r/a/c', '/r/a-b', '/r/b']);
  });

  it('with startAfter inside a directory, descends into it without reporting it and reports only what sorts after', async () => {
    const driver = await tree(['/r/a/1', '/r/a/2', '/r/a/3', '/r/b/1']);
    expect(await walked(driver, '/r', '/r/a/2')).toEqual(['/r/a/3', '/r/b', '/r/b/1']);
  });

  it('fails with PATH_NOT_FOUND when the starting directory is missing', async () => {
    const driver = await tree([]);
    await expect(walked(driver, '/nowhere')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });
});
