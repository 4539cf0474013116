/** Walk checks shared by the swift and s3 driver tests. */
import { expect } from 'vitest';
import type { FileInfo, StorageDriver } from '../../src/index.js';

export async function checkWalk(driver: StorageDriver): Promise<void> {
  const files: Record<string, string> = { '/walk/a/x': '1', '/walk/a/y/z': '22', '/walk/a-b': '333', '/walk/b': '4444' };
  for (const [name, content] of Object.entries(files)) await driver.putContent(name, Buffer.from(content));
  const seen: FileInfo[] = [];
  await driver.walk!('/walk', (info) => void seen.push(info));
  expect(seen.map((i) => `${i.path}${i.isDir ? '/' : `:${i.size}`}`)).toEqual(['/walk/a/', '/walk/a/x:1', '/walk/a/y/', '/walk/a/y/z:2', '/walk/a-b:3', '/walk/b:4']);
  expect(seen.every((i) => i.modTime.getTime() > Date.now() - 3600_000)).toBe(true);

  const skipping: string[] = [];
  await driver.walk!('/walk', (info) => {
    skipping.push(info.path);
    return info.path === '/walk/a' ? 'skipDir' : undefined;
  });
  expect(skipping).toEqual(['/walk/a', '/walk/a-b', '/walk/b']);

  const stopping: string[] = [];
  await driver.walk!('/walk', (info) => {
    stopping.push(info.path);
    return info.path === '/walk/a/y' ? 'stop' : undefined;
  });
  expect(stopping).toEqual(['/walk/a', '/walk/a/x', '/walk/a/y']);

  const resumed: string[] = [];
  await driver.walk!('/walk', (info) => void resumed.push(info.path), { startAfter: '/walk/a/x' });
  // startAfter is lexical over whole paths ('/walk/a-b' sorts before '/walk/a/x'), as S3's StartAfter is
  expect(resumed).toEqual(['/walk/a/y', '/walk/a/y/z', '/walk/b']);

  await expect(driver.walk!('/walk/none', () => undefined)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
}
