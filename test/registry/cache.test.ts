import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { redisEndpointOf, type CacheConfig } from '../../src/config/caches.js';
import { createRegistryCaches, type CacheKind } from '../../src/registry/cache/index.js';
import { InProcessStore } from '../../src/registry/cache/memory-store.js';
import { RedisStore } from '../../src/registry/cache/redis-store.js';
import type { CacheStore } from '../../src/registry/cache/store.js';
import { Registry } from '../../src/registry/index.js';
import { silentLogger } from '../../src/registry/logger.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { sha256 } from '../support/push-by-url.js';
import { storeBlob, storeImage } from '../support/push-in-process.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { createFilesystemDriver } from '../support/stowage.js';


/** one stowage registry as a process builds it: its own driver, its own cache connections, counting lookups */
interface Instance {
  readonly registry: Registry;
  readonly lookups: { kind: CacheKind; hit: boolean }[];
  /** every path this instance read whole or opened for reading from its storage driver */
  readonly reads: string[];
  /** every path whose content stamp this instance took from its storage driver (a stat of the file) */
  readonly stamped: string[];
  close(): Promise<void>;
}

/**
 * `stamps: false` hides the filesystem driver's content stamps, as a driver without them (an object store, a
 * network filesystem) has none: links are then never kept, and a tag is looked up in the cache, which is
 * what the tests of the tag cache need.
 */
async function instance(rootdirectory: string, config: CacheConfig | undefined, { stamps = true } = {}): Promise<Instance> {
  const reads: string[] = [];
  const stamped: string[] = [];
  const storage = await createFilesystemDriver(rootdirectory);
  const stampSync = storage.contentStampSync;
  const driver: StorageDriver = Object.assign(Object.create(storage) as StorageDriver, {
    getContent: (target: string, signal?: AbortSignal) => (reads.push(target), storage.getContent(target, signal)),
    reader: (target: string, offset: number, signal?: AbortSignal) => (reads.push(target), storage.reader(target, offset, signal)),
    contentStampSync: stamps && stampSync ? (target: string) => (stamped.push(target), stampSync.call(storage, target)) : undefined,
  });
  const lookups: { kind: CacheKind; hit: boolean }[] = [];
  const caches = config ? createRegistryCaches(config, silentLogger, (kind, hit) => lookups.push({ kind, hit })) : undefined;
  const registry = new Registry({ driver, deleteEnabled: true, ...(caches ? { caches } : {}) });
  return {
    registry,
    lookups,
    reads,
    stamped,
    async close() {
      await registry.closeCaches();
      await driver.close?.();
    },
  };
}

/** pushes a one-layer image whose layer holds `text`, tagged `tag`; returns the manifest digest */
const pushImage = (registry: Registry, name: string, tag: string, text: string): Promise<string> =>
  storeImage(registry, name, tag, Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', text })), [Buffer.from(text)]);

describe('shared caches in redis', () => {
  let redis: RunningRedis;
  let folder: string;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.close();
  });

  const redisCache = (): CacheConfig => ({
    blobdescriptor: 'redis',
    redis: redisEndpointOf({ addr: redis.addr }),
    lru: redisEndpointOf({ addr: redis.addr, db: 1 }),
    ttl: '10m',
    inmemorysize: 1024 * 1024,
  });

  it('refuses a fill read before an invalidation that landed after it (a read racing a write leaves nothing stale)', async () => {
    const settings = { host: '127.0.0.1', port: redis.port, db: 2, dialTimeoutMs: 2000, commandTimeoutMs: 2000 };
    const stores: CacheStore[] = [new RedisStore(settings, 60, silentLogger, 'test'), new InProcessStore(1024 * 1024)];
    try {
      for (const store of stores) {
        const scopes = ['repositories', 'repository:team/race'];
        // commands fail (as misses) until the connection is up: wait for it
        while ((await store.lookup(['probe'], 'probe')).generation === undefined) await new Promise((r) => setTimeout(r, 20));
        const before = await store.lookup(scopes, 'tag');
        expect(before.value).toBeUndefined();
        // another process moves the tag and bumps the repository's generation, then the slow reader fills
        await store.invalidate('repository:team/race');
        await store.fill(scopes, before.generation!, 'tag', 'sha256:old');
        expect((await store.lookup(scopes, 'tag')).value).toBeUndefined();
        const now = await store.lookup(scopes, 'tag');
        await store.fill(scopes, now.generation!, 'tag', 'sha256:new');
        expect((await store.lookup(scopes, 'tag')).value).toBe('sha256:new');
        // a namespace removed (the scope every repository depends on) hides it too
        await store.invalidate('repositories');
        expect((await store.lookup(scopes, 'tag')).value).toBeUndefined();
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('a tag moved through one registry is pulled at its new digest through another sharing the storage and the redis', async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'stowage-cache-'));
    const a = await instance(folder, redisCache(), { stamps: false });
    const b = await instance(folder, redisCache(), { stamps: false });
    try {
      const first = await pushImage(a.registry, 'team/app', 'latest', 'first');
      expect((await b.registry.getManifest('team/app', 'latest')).digest).toBe(first);
      b.lookups.length = 0;
      // the second pull is answered from redis: without invalidation it would keep answering `first`
      expect((await b.registry.getManifest('team/app', 'latest')).digest).toBe(first);
      expect(b.lookups).toContainEqual({ kind: 'tag', hit: true });

      const second = await pushImage(a.registry, 'team/app', 'latest', 'second');
      expect(second).not.toBe(first);
      const pulled = await b.registry.getManifest('team/app', 'latest');
      expect(pulled.digest).toBe(second);
      expect(sha256(pulled.content)).toBe(second);

      await a.registry.deleteManifest('team/app', 'latest');
      await expect(b.registry.getManifest('team/app', 'latest')).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
      await a.registry.deleteManifest('team/app', second);
      await expect(b.registry.getManifest('team/app', second)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
    } finally {
      await a.close();
      await b.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('a blob deleted through one registry is unknown through another, though its size was cached', async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'stowage-cache-'));
    const a = await instance(folder, redisCache());
    const b = await instance(folder, redisCache());
    try {
      const blob = await storeBlob(a.registry, 'team/blobs', Buffer.from('a blob to delete'));
      expect(await b.registry.statBlob('team/blobs', blob.digest)).toEqual(blob);
      b.lookups.length = 0;
      expect(await b.registry.statBlob('team/blobs', blob.digest)).toEqual(blob);
      expect(b.lookups).toContainEqual({ kind: 'blob_descriptor', hit: true });
      await a.registry.deleteBlob('team/blobs', blob.digest);
      await expect(b.registry.statBlob('team/blobs', blob.digest)).rejects.toMatchObject({ code: 'BLOB_UNKNOWN' });
    } finally {
      await a.close();
      await b.close();
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('redis stopped mid-run makes pushes and pulls read storage, with the right content', async () => {
    const own = await startRedis();
    // stopped even when a registry cannot be built below
    onTestFinished(() => own.close());
    folder = await mkdtemp(path.join(os.tmpdir(), 'stowage-cache-'));
    const config: CacheConfig = { blobdescriptor: 'redis', redis: redisEndpointOf({ addr: own.addr }), lru: redisEndpointOf({ addr: own.addr }), ttl: '10m', inmemorysize: 0 };
    const a = await instance(folder, config);
    const b = await instance(folder, config);
    try {
      const first = await pushImage(a.registry, 'team/down', 'v1', 'before the outage');
      expect((await b.registry.getManifest('team/down', 'v1')).digest).toBe(first);
      await own.stop();
      const second = await pushImage(a.registry, 'team/down', 'v1', 'during the outage');
      const pulled = await b.registry.getManifest('team/down', 'v1');
      expect(pulled.digest).toBe(second);
      expect(sha256(pulled.content)).toBe(second);
      const layer = JSON.parse(Buffer.from(pulled.content).toString('utf8')).layers[0] as { digest: string; size: number };
      expect(await b.registry.statBlob('team/down', layer.digest)).toEqual({ digest: layer.digest, size: layer.size });
      expect(b.lookups.some((lookup) => lookup.hit)).toBe(false);
    } finally {
      await a.close();
      await b.close();
      await own.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('the in-process cache (no redis)', () => {
  const inProcess: CacheConfig = { blobdescriptor: 'inmemory', ttl: '10m', inmemorysize: 1024 * 1024 };

  it('answers blob sizes and manifest bytes from memory, and never tags: two registries agree on a moved tag', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'stowage-cache-'));
    const a = await instance(folder, inProcess);
    const b = await instance(folder, inProcess);
    try {
      const first = await pushImage(a.registry, 'team/app', 'latest', 'first');
      expect((await b.registry.getManifest('team/app', 'latest')).digest).toBe(first);
      b.lookups.length = 0;
      b.reads.length = 0;
      b.stamped.length = 0;
      expect((await b.registry.getManifest('team/app', 'latest')).digest).toBe(first);
      // the manifest's bytes come from memory (the registry's digest-keyed copy or the small-blob cache) ...
      const hex = first.slice('sha256:'.length);
      expect(b.reads.filter((target) => target.includes(hex) && target.endsWith('/data'))).toEqual([]);
      // ... while the tag is asked of storage, never of a cache: its link read, or its stamp taken (a stat
      // that would show the link changed since it was read)
      const askedOfStorage = [...b.reads, ...b.stamped];
      expect(askedOfStorage.some((target) => target.includes('/_manifests/tags/latest/'))).toBe(true);
      expect(b.lookups.map((lookup) => lookup.kind)).not.toContain('tag');

      const second = await pushImage(a.registry, 'team/app', 'latest', 'second');
      expect((await b.registry.getManifest('team/app', 'latest')).digest).toBe(second);
    } finally {
      await a.close();
      await b.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
