/**
 * Two stowage processes sharing one redis cache and one storage. The storage is a bucket (the alioss driver on
 * the OSS emulator): the redis tag cache is what answers a repeated tag there. On the filesystem driver a link
 * is kept under its content stamp (a local stat) and answered before any cache is asked, so a tag would never
 * reach redis there (test/e2e/shared-tags.test.ts covers tags moved between processes on a folder).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOssEmulator, type OssEmulator } from '../oss/emulator.js';
import { ossDriverLines, startStowageProcessOn } from '../oss/stowage-process.js';
import { freeLoopbackPort } from '../support/ports.js';
import { IMAGE_MANIFEST, pushImageTo, sha256 } from '../support/push-by-url.js';
import { startRedis, type RunningRedis } from '../support/redis.js';

type StowageProcess = Awaited<ReturnType<typeof startStowageProcessOn>>;

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

describe('two stowage processes on one bucket sharing one redis (storage.cache.blobdescriptor: redis)', () => {
  let redis: RunningRedis;
  let emulator: OssEmulator;
  let a: StowageProcess;
  let b: StowageProcess;
  let debugPort: number;

  beforeAll(async () => {
    redis = await startRedis('a redis password');
    emulator = await startOssEmulator({ buckets: ['shared'] });
    const storageLines = [
      ...ossDriverLines(emulator, 'shared'),
      '  cache:',
      '    blobdescriptor: redis',
      '    lru:',
      `      addr: ${redis.addr}`,
      '      db: 1',
      '      password: a redis password',
    ];
    const topLevelLines = ['redis:', `  addr: ${redis.addr}`, '  password: a redis password', '  db: 0', '  dialtimeout: 2s'];
    a = await startStowageProcessOn(storageLines, { topLevelLines });
    debugPort = await freeLoopbackPort();
    b = await startStowageProcessOn(storageLines, { topLevelLines, httpLines: ['  debug:', `    addr: 127.0.0.1:${debugPort}`, '    prometheus:', '      enabled: true'] });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.close();
    await emulator?.close();
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
