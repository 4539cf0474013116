import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../support/ports.js';
import { IMAGE_MANIFEST, pushImageTo, sha256 } from '../support/push-by-url.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { startStowageProcess, type StowageProcess } from '../support/stowage.js';

async function pull(url: string, repository: string, reference: string): Promise<{ status: number; digest: string | null; bodyDigest: string }> {
  const response = await fetch(`${url}/v2/${repository}/manifests/${reference}`, { headers: { Accept: IMAGE_MANIFEST } });
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, digest: response.headers.get('docker-content-digest'), bodyDigest: sha256(body) };
}

async function tagHits(debugPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${debugPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('stowage_cache_lookups_total{kind="tag",result="hit"}'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

describe('two stowage processes on one folder sharing one redis (storage.cache.blobdescriptor: redis)', () => {
  let redis: RunningRedis;
  let folder: string;
  let a: StowageProcess;
  let b: StowageProcess;
  let debugPort: number;

  beforeAll(async () => {
    redis = await startRedis('a redis password');
    folder = await mkdtemp(path.join(os.tmpdir(), 'stowage-shared-cache-'));
    const cacheLines = {
      storageLines: ['  cache:', '    blobdescriptor: redis', '    lru:', `      addr: ${redis.addr}`, '      db: 1', '      password: a redis password'],
      topLevelLines: ['redis:', `  addr: ${redis.addr}`, '  password: a redis password', '  db: 0', '  dialtimeout: 2s'],
    };
    a = await startStowageProcess({ rootdirectory: folder, ...cacheLines });
    debugPort = await freeLoopbackPort();
    b = await startStowageProcess({ rootdirectory: folder, ...cacheLines, httpLines: ['  debug:', `    addr: 127.0.0.1:${debugPort}`, '    prometheus:', '      enabled: true'] });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('a tag moved through process A is pulled at its new digest through process B, before and after redis goes down', async () => {
    const first = await pushImageTo(a.url, 'shared/app', 'latest', {}, {}, 'first');
    // twice: the second answer comes from the cache B filled (its metrics count the tag hit)
    expect(await pull(b.url, 'shared/app', 'latest')).toEqual({ status: 200, digest: first, bodyDigest: first });
    const tagHitsBefore = await tagHits(debugPort);
    expect(await pull(b.url, 'shared/app', 'latest')).toEqual({ status: 200, digest: first, bodyDigest: first });
    expect(await tagHits(debugPort)).toBe(tagHitsBefore + 1);

    const second = await pushImageTo(a.url, 'shared/app', 'latest', {}, {}, 'second');
    expect(await pull(b.url, 'shared/app', 'latest')).toEqual({ status: 200, digest: second, bodyDigest: second });

    await redis.stop();
    const third = await pushImageTo(b.url, 'shared/app', 'latest', {}, {}, 'third');
    expect(await pull(a.url, 'shared/app', 'latest')).toEqual({ status: 200, digest: third, bodyDigest: third });
    expect(await pull(b.url, 'shared/app', 'latest')).toEqual({ status: 200, digest: third, bodyDigest: third });
    // the password is never logged, not even in the cache's complaint that redis is gone
    expect(a.server.output() + b.server.output()).not.toContain('a redis password');
  });
});
