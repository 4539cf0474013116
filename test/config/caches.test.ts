import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const load = async (text: string) => {
  const cwd = await workdir({ 'config.yml': text });
  return { file: path.join(cwd, 'config.yml'), result: loadConfig({ cwd, configFile: 'config.yml', env: {} }) };
};

describe('storage.cache and redis', () => {
  it('refuses a blobdescriptor that names no cache, at the key', async () => {
    const { file, result } = await load('version: 0.1\nstorage:\n  inmemory: {}\n  cache:\n    blobdescriptor: memcached\n');
    expectIssue(await configErrorOf(result), file, 'storage.cache.blobdescriptor', 'redis or inmemory');
  });

  it('refuses a negative redis db and an unknown redis key', async () => {
    const { file, result } = await load('version: 0.1\nstorage:\n  inmemory: {}\n  cache:\n    blobdescriptor: redis\nredis:\n  addr: localhost:6379\n  db: -1\n  hostname: x\n');
    const error = await configErrorOf(result);
    expectIssue(error, file, 'redis.db');
    expect(error.message).toContain('hostname');
  });

  it('caches in-process, and says so, when blobdescriptor is redis but no redis section says where', async () => {
    const { result } = await load('version: 0.1\nstorage:\n  inmemory: {}\n  cache:\n    blobdescriptor: redis\n');
    const config = await result;
    expect(config.caches?.blobdescriptor).toBe('inmemory');
    expect(config.warnings?.map((w) => w.path)).toEqual(['storage.cache.blobdescriptor']);
  });

  it('warns that a redis section without blobdescriptor: redis is not used', async () => {
    const { result } = await load('version: 0.1\nstorage:\n  inmemory: {}\nredis:\n  addr: localhost:6379\n');
    const config = await result;
    expect(config.caches).toBeUndefined();
    expect(config.warnings?.map((w) => w.path)).toEqual(['redis']);
  });

  it('reads an IPv6 redis address and keeps the password out of warnings', async () => {
    const { result } = await load('version: 0.1\nstorage:\n  inmemory: {}\n  cache:\n    blobdescriptor: redis\n    blobdescriptorsize: 10000\nredis:\n  addr: "[::1]:6390"\n  password: hunter2\n');
    const config = await result;
    expect(config.caches?.redis).toMatchObject({ host: '::1', port: 6390, password: 'hunter2' });
    expect(config.warnings?.map((w) => w.path)).toEqual(['storage.cache.blobdescriptorsize']);
    expect(JSON.stringify(config.warnings)).not.toContain('hunter2');
  });
});
