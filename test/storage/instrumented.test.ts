import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { instrumentDriver, type StorageObserver } from '../../src/storage/instrumented.js';
import { createDriverContext } from '../../src/testing/index.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** the optional calls of the driver contract (docs/driver-kit.md, "optional") */
const OPTIONAL_CALLS = ['redirectURL', 'listAfter', 'walk', 'close', 'purgeTemporaries', 'contentStampSync', 'putContents'] as const;

async function measuredFilesystemDriver(): Promise<{ driver: StorageDriver; inner: StorageDriver; root: string; seen: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-instrumented-'));
  roots.push(root);
  const inner = wrapDriver(await createDriver({ rootdirectory: root }, createDriverContext('filesystem')));
  const seen: string[] = [];
  const observer: StorageObserver = { operation: (_driver, operation) => void seen.push(operation) };
  return { driver: instrumentDriver(inner, observer), inner, root, seen };
}

describe('the measured driver (metrics on)', () => {
  it('offers every optional call the driver it measures offers', async () => {
    const { driver, inner } = await measuredFilesystemDriver();
    for (const call of OPTIONAL_CALLS) expect(typeof driver[call], call).toBe(typeof inner[call]);
  });

  it('purges temporaries a killed process left, as the unmeasured driver does (upload purging with metrics on)', async () => {
    const { driver, root, seen } = await measuredFilesystemDriver();
    const leftover = join(root, 'blobs/sha256/aa/aa/data~0123456789ab.tmp');
    await mkdir(join(leftover, '..'), { recursive: true });
    await writeFile(leftover, 'half of a blob');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(leftover, hourAgo, hourAgo);

    expect(await driver.purgeTemporaries?.(new Date(Date.now() - 60_000), false)).toEqual(['/blobs/sha256/aa/aa/data~0123456789ab.tmp']);
    expect(await readdir(join(root, 'blobs/sha256/aa/aa'))).toEqual([]);
    expect(seen).toContain('purgeTemporaries');
  });
});
