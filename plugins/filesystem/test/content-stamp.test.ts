/**
 * contentStampSync: the same stamp only while a file holds the same content, whoever wrote it (this driver,
 * another process, or an in-place rewrite as distribution's filesystem driver makes), and no stamp while the
 * file's times are too recent to tell a later change apart.
 */
import type { BigIntStats } from 'node:fs';
import { mkdtemp, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriverContext } from '../../../src/testing/index.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriver } from '../src/index.js';
import { isLocalFilesystemType, onLocalFilesystem } from '../src/local-filesystem.js';
import { SettledTimes } from '../src/settled-times.js';

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function driverOnFreshRoot(): Promise<{ root: string; driver: StorageDriver }> {
  const root = await mkdtemp(join(tmpdir(), 'stowage-filesystem-stamps-'));
  roots.push(root);
  return { root, driver: await createDriver({ rootdirectory: root }, createDriverContext('filesystem')) };
}

/** Waits until the file's times are old enough to be stamped (settled-times.ts: at most 100 ms, or 2 s for whole seconds). */
async function settled(file: string): Promise<void> {
  for (;;) {
    const info = await stat(file);
    const wholeSeconds = info.mtimeMs % 1000 === 0 && info.ctimeMs % 1000 === 0;
    if (Date.now() - Math.max(info.mtimeMs, info.ctimeMs) > (wholeSeconds ? 2_100 : 200)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

// stamps are given on local filesystems only (local-filesystem.ts): the temporary folder has to be on one
describe.runIf(onLocalFilesystem(tmpdir()) === true)('filesystem: content stamps', () => {
  it('stamps a settled file the same until it is replaced, rewritten in place or deleted', async () => {
    const { root, driver } = await driverOnFreshRoot();
    const link = '/repositories/app/_manifests/tags/latest/current/link';
    const file = join(root, link);
    await driver.putContent(link, Buffer.from(DIGEST_A));
    await settled(file);
    const first = driver.contentStampSync!(link);
    expect(first).toEqual(expect.any(String));
    expect(driver.contentStampSync!(link)).toBe(first);

    // replaced by this driver (a new file renamed over it), with content of the same size
    await driver.putContent(link, Buffer.from(DIGEST_B));
    expect(driver.contentStampSync!(link)).not.toBe(first);
    await settled(file);
    const second = driver.contentStampSync!(link);
    expect(second).toEqual(expect.any(String));
    expect(second).not.toBe(first);

    // rewritten in place, as distribution's driver does (same inode, same size)
    await writeFile(file, DIGEST_A);
    expect(driver.contentStampSync!(link)).not.toBe(second);
    await settled(file);
    const third = driver.contentStampSync!(link);
    expect([third === undefined, third === first, third === second]).toEqual([false, false, false]);

    await driver.delete('/repositories/app/_manifests/tags/latest');
    expect(driver.contentStampSync!(link)).toBeUndefined();
  });

  it('gives no stamp for a folder or a path with nothing there', async () => {
    const { root, driver } = await driverOnFreshRoot();
    await driver.putContent('/folder/file', Buffer.from('x'));
    await settled(join(root, 'folder'));
    expect(driver.contentStampSync!('/folder')).toBeUndefined();
    expect(driver.contentStampSync!('/folder/missing')).toBeUndefined();
    expect(driver.contentStampSync!('/folder/file/below')).toBeUndefined();
  });
});

describe('filesystem: settled times', () => {
  const NOW = 1_765_000_000_123;
  const ns = (ms: number): bigint => BigInt(ms) * 1_000_000n;
  const info = (mtimeNs: bigint, ctimeNs: bigint) => ({ mtimeNs, ctimeNs }) as BigIntStats;
  const wholeSecondAgo = (seconds: number): bigint => ns(Math.floor(NOW / 1000) * 1000 - seconds * 1000);
  const unknown = SettledTimes.for(undefined);
  const multigrain = SettledTimes.for({ kind: 'later after a stat' });
  const tick4 = SettledTimes.for({ kind: 'coarse', tickMs: 4 });
  const cases: [string, SettledTimes, bigint, bigint, boolean][] = [
    ['stamping unknown: fine times 150 ms old', unknown, ns(NOW - 150) + 7n, ns(NOW - 150) + 7n, true],
    ['stamping unknown: fine times 50 ms old', unknown, ns(NOW - 50) + 7n, ns(NOW - 50) + 7n, false],
    ['stamping unknown: an old mtime but a change time 50 ms old', unknown, ns(NOW - 60_000) + 7n, ns(NOW - 50) + 7n, false],
    ['stamping unknown: an old change time but an mtime 50 ms old', unknown, ns(NOW - 50) + 7n, ns(NOW - 60_000) + 7n, false],
    ['stamping unknown: times exactly 100 ms old', unknown, ns(NOW - 100), ns(NOW - 100), false],
    ['whole-second times 1 s old', unknown, wholeSecondAgo(1), wholeSecondAgo(1), false],
    ['whole-second times 3 s old', unknown, wholeSecondAgo(3), wholeSecondAgo(3), true],
    ['whole-second times 1 s old, multigrain', multigrain, wholeSecondAgo(1), wholeSecondAgo(1), false],
    ['times in the future (a clock stepped back)', unknown, ns(NOW + 5000), ns(NOW + 5000), false],
    ['multigrain: times from the same ms as the stat', multigrain, ns(NOW) + 999_999n, ns(NOW) + 5n, true],
    ['multigrain: times 1 ms after the stat began (a clock stepped back)', multigrain, ns(NOW + 1), ns(NOW + 1), false],
    ['a 4 ms tick: times 10 ms old', tick4, ns(NOW - 10) + 7n, ns(NOW - 10) + 7n, true],
    ['a 4 ms tick: times 9 ms old (within two ticks and the margin)', tick4, ns(NOW - 9), ns(NOW - 9), false],
    ['a 4 ms tick: times 3 ms old (within the tick)', tick4, ns(NOW - 3), ns(NOW - 3), false],
  ];
  it.each(cases.map(([name, ...rest]) => [`${name}: ${rest[3] ? 'settled' : 'not settled'}`, ...rest] as const))('%s', (_, rule, mtimeNs, ctimeNs, expected) => {
    expect(rule.settled(info(mtimeNs, ctimeNs), NOW)).toBe(expected);
  });
});

describe('filesystem: stamps only where a stat tells what is stored now', () => {
  it.each([
    ['ext4', 0xef53, true],
    ['xfs', 0x58465342, true],
    ['btrfs', 0x9123683e, true],
    ['tmpfs', 0x01021994, true],
    ['overlayfs', 0x794c7630, true],
    ['NFS', 0x6969, false],
    ['SMB2', 0xfe534d42, false],
    ['CIFS', 0xff534d42, false],
    ['FUSE (s3fs, sshfs)', 0x65735546, false],
    ['Ceph', 0x00c36400, false],
    ['an unknown type', 0x12345678, false],
  ])('%s: stamped %s', (_, type, stamped) => {
    expect(isLocalFilesystemType(type)).toBe(stamped);
  });

  it('takes the root folder it can examine for what it is, and one it cannot for nothing yet', async () => {
    const { root } = await driverOnFreshRoot();
    expect(onLocalFilesystem(root)).toBe(isLocalFilesystemType((await statfs(root)).type));
    expect(onLocalFilesystem(join(root, 'not-made-yet'))).toBeUndefined();
  });
});
