import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wrapDriver } from '../../../src/storage/base.js';
import type { StorageDriver } from '../../../src/storage/driver.js';
import { createDriverContext } from '../../../src/testing/index.js';
import { createDriver } from '../src/index.js';

const pluginDir = new URL('..', import.meta.url).pathname;
let root: string;

const driverAt = (rootdirectory: string, baseDir?: string): StorageDriver =>
  wrapDriver(createDriver({ rootdirectory }, createDriverContext('filesystem', undefined, baseDir)) as StorageDriver);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'stowage-filesystem-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('the filesystem driver on disk', () => {
  it('stores an object as a plain file at <rootdirectory><path>, as distribution does', async () => {
    await driverAt(root).putContent('/docker/registry/v2/repositories/a/_layers/link', Buffer.from('sha256:00'));
    expect(readFileSync(join(root, 'docker/registry/v2/repositories/a/_layers/link'), 'utf8')).toBe('sha256:00');
  });

  it('serves a tree written by another registry unchanged', async () => {
    mkdirSync(join(root, 'docker/registry/v2/blobs'), { recursive: true });
    writeFileSync(join(root, 'docker/registry/v2/blobs/data'), 'layer bytes');
    const driver = driverAt(root);
    expect(Buffer.from(await driver.getContent('/docker/registry/v2/blobs/data')).toString()).toBe('layer bytes');
    expect(await driver.list('/docker/registry/v2/blobs')).toEqual(['/docker/registry/v2/blobs/data']);
  });

  it('resumes an upload after a restart: a new driver on the same root appends to what the old one wrote', async () => {
    const before = await driverAt(root).writer('/uploads/u1/data', false);
    await before.write(Buffer.from('first half, '));
    await before.close();

    const after = await driverAt(root).writer('/uploads/u1/data', true);
    expect(after.size).toBe(12);
    await after.write(Buffer.from('second half'));
    await after.commit();
    await after.close();
    expect(Buffer.from(await driverAt(root).getContent('/uploads/u1/data')).toString()).toBe('first half, second half');
  });

  it('keeps uncommitted bytes in <path>~partial, which no listing shows', async () => {
    const driver = driverAt(root);
    const writer = await driver.writer('/uploads/u2/data', false);
    await writer.write(Buffer.from('pending'));
    await writer.close();
    expect(readFileSync(join(root, 'uploads/u2/data~partial'), 'utf8')).toBe('pending');
    expect(await driver.list('/uploads/u2')).toEqual([]);
    await driver.delete('/uploads/u2/data');
    expect(existsSync(join(root, 'uploads/u2/data~partial'))).toBe(false);
  });

  it('replaces an object atomically: a concurrent reader sees the old or the new content, never a mix', async () => {
    const driver = driverAt(root);
    const [a, b] = [Buffer.alloc(1024 * 1024, 'a'), Buffer.alloc(512 * 1024, 'b')];
    await driver.putContent('/x', a);
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 40; i++) await driver.putContent('/x', i % 2 ? a : b);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const seen = Buffer.from(await driver.getContent('/x'));
      expect(seen.equals(a) || seen.equals(b)).toBe(true);
      reads++;
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
    expect(readdirSync(root).filter((name) => name.includes('~'))).toEqual([]);
  });

  it('resolves a relative rootdirectory against the config file folder', async () => {
    await driverAt('data', root).putContent('/a', Buffer.from('1'));
    expect(readFileSync(join(root, 'data/a'), 'utf8')).toBe('1');
  });

  it('rejects "." and ".." path segments, which would leave the root, as INVALID_PATH', async () => {
    const driver = driverAt(join(root, 'inside'));
    await expect(driver.putContent('/../escaped', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PATH' });
    await expect(driver.getContent('/a/./b')).rejects.toMatchObject({ code: 'INVALID_PATH' });
    expect(existsSync(join(root, 'escaped'))).toBe(false);
  });

  it('lists an empty root before anything was written, even when the root directory does not exist yet', async () => {
    expect(await driverAt(join(root, 'not-yet')).list('/')).toEqual([]);
  });
});

describe('the filesystem plugin package', () => {
  const manifest = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8'));
  const schema = JSON.parse(readFileSync(join(pluginDir, 'schema.json'), 'utf8'));
  const validate = new Ajv2020({ useDefaults: true, allErrors: true, strict: true }).compile(schema);

  it('declares itself as the storage plugin "filesystem" (docker-registry\'s "local") with storage_path mapped to rootdirectory', () => {
    expect(manifest.stowage).toEqual({
      type: 'storage',
      name: 'filesystem',
      aliases: ['local'],
      apiVersion: 2,
      schema: './schema.json',
      legacyOptions: { storage_path: 'rootdirectory' },
    });
  });

  it("defaults rootdirectory to distribution's /var/lib/registry, maxthreads to 100, uploadcache and groupsync to auto", () => {
    const options = {};
    expect(validate(options)).toBe(true);
    expect(options).toEqual({ rootdirectory: '/var/lib/registry', maxthreads: 100, uploadcache: 'auto', groupsync: 'auto' });
  });

  it('takes groupsync as auto or off, and nothing else', () => {
    expect(validate({ groupsync: 'auto' })).toBe(true);
    expect(validate({ groupsync: 'off' })).toBe(true);
    for (const wrong of ['on', 'syncfs', true, 0, '']) expect(validate({ groupsync: wrong }), JSON.stringify(wrong)).toBe(false);
  });

  it('takes uploadcache as bytes, unlimited or auto, and nothing else', () => {
    expect(validate({ uploadcache: 0 })).toBe(true);
    expect(validate({ uploadcache: 'unlimited' })).toBe(true);
    expect(validate({ uploadcache: 'auto' })).toBe(true);
    for (const wrong of [-1, 1.5, 'lots', '512MiB', null]) expect(validate({ uploadcache: wrong }), String(wrong)).toBe(false);
  });

  it('rejects maxthreads below 25 and unknown options', () => {
    expect(validate({ maxthreads: 24 })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/maxthreads', keyword: 'minimum' });
    expect(validate({ rootdir: '/x' })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ keyword: 'additionalProperties', params: { additionalProperty: 'rootdir' } });
  });
});
