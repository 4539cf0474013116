/** What a driver holds, read through the storage contract, for tests that check that nothing changed. */
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { isPathNotFound } from '../../src/storage/errors.js';

/**
 * Every committed object (path -> base64 content), plus the size of every upload's uncommitted data
 * (`<path> (upload)` -> bytes): what a request could have changed.
 */
export async function storageSnapshot(store: StorageDriver): Promise<Map<string, string>> {
  // wrapped, for the walk every driver gets from list + stat
  const driver = wrapDriver(store);
  const snapshot = new Map<string, string>();
  const uploads: string[] = [];
  await driver.walk!('/', async (info) => {
    if (info.isDir) {
      if (info.path.endsWith('/_uploads') || /\/_uploads\/[^/]+$/.test(info.path)) uploads.push(info.path);
      return;
    }
    snapshot.set(info.path, Buffer.from(await driver.getContent(info.path)).toString('base64'));
  });
  for (const dir of uploads.filter((p) => !p.endsWith('/_uploads'))) {
    try {
      snapshot.set(`${dir}/data (upload)`, String(await driver.uploadSize(`${dir}/data`)));
    } catch (err) {
      if (!isPathNotFound(err)) throw err;
    }
  }
  return snapshot;
}

/** The paths of committed objects. */
export async function storedPaths(driver: StorageDriver): Promise<string[]> {
  return [...(await storageSnapshot(driver)).keys()].filter((key) => !key.endsWith(' (upload)'));
}
