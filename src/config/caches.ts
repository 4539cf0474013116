/**
 * The caches section: distribution's `storage.cache.blobdescriptor` (`redis` with the top-level `redis`
 * section, or `inmemory`), stowage's `storage.cache.lru` (the seeds' `cache_lru`) and `storage.cache.ttl`.
 * The docker-registry seeds' `cache` / `cache_lru` arrive here translated by legacy.ts.
 */
import type { ConfigIssue } from './types.js';
import type { Origins } from './origins.js';

export interface RedisEndpointConfig {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  /** never logged */
  readonly password?: string;
  readonly username?: string;
  /** Go duration: connect timeout */
  readonly dialtimeout: string;
  /** Go duration: the longest one command may take before it counts as a miss (distribution's readtimeout) */
  readonly readtimeout: string;
}

export interface CacheConfig {
  /** `redis`: blob descriptors and tag -> digest shared by every process; `inmemory`: blob descriptors in-process */
  readonly blobdescriptor: 'redis' | 'inmemory';
  /** where blob descriptors and tags are cached (blobdescriptor: redis) */
  readonly redis?: RedisEndpointConfig;
  /** small objects (manifest bytes, links) in redis; absent: manifest bytes in-process */
  readonly lru?: RedisEndpointConfig;
  /** Go duration: how long a cached link lives in redis at most */
  readonly ttl: string;
  /** bytes the in-process cache may hold */
  readonly inmemorysize: number;
}

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

export const DEFAULT_REDIS_PORT = 6379;

/** `host:port`, `[v6]:port` or `host` (port 6379) */
export function redisEndpointOf(section: Mapping): RedisEndpointConfig {
  const addr = typeof section.addr === 'string' ? section.addr : `localhost:${DEFAULT_REDIS_PORT}`;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(addr);
  const host = (match?.[1] ?? addr).replace(/^\[(.*)\]$/, '$1');
  const port = match?.[2] !== undefined ? Number(match[2]) : DEFAULT_REDIS_PORT;
  return {
    host,
    port,
    db: typeof section.db === 'number' ? section.db : 0,
    ...(typeof section.password === 'string' && section.password !== '' ? { password: section.password } : {}),
    ...(typeof section.username === 'string' && section.username !== '' ? { username: section.username } : {}),
    dialtimeout: typeof section.dialtimeout === 'string' ? section.dialtimeout : '5s',
    readtimeout: typeof section.readtimeout === 'string' ? section.readtimeout : '1s',
  };
}

/** `{ caches }` when storage.cache configures one; issues for a redis cache without a `redis` section */
export function cachesOf(document: Mapping, origins: Origins, issues: ConfigIssue[]): { caches: CacheConfig } | undefined {
  const storage = isMapping(document.storage) ? document.storage : {};
  const cache = storage.cache;
  if (!isMapping(cache)) return undefined;
  // distribution caches nothing unless blobdescriptor names a cache
  if (cache.blobdescriptor !== 'redis' && cache.blobdescriptor !== 'inmemory' && !isMapping(cache.lru)) return undefined;
  const ttl = typeof cache.ttl === 'string' ? cache.ttl : '10m';
  const inmemorysize = typeof cache.inmemorysize === 'number' ? cache.inmemorysize : 64 * 1024 * 1024;
  if (cache.blobdescriptorsize != null) {
    issues.push({ ...origins.locate(['storage', 'cache', 'blobdescriptorsize']), message: 'accepted but ignored: stowage bounds its in-process cache by bytes (storage.cache.inmemorysize), not by entries' });
  }
  const lru = isMapping(cache.lru) ? { lru: redisEndpointOf(cache.lru) } : {};
  if (cache.blobdescriptor === 'redis') {
    if (!isMapping(document.redis)) {
      issues.push({ ...origins.locate(['storage', 'cache', 'blobdescriptor']), message: 'blobdescriptor: redis needs the top-level redis section (addr, password, db); caching in-process instead' });
      return { caches: { blobdescriptor: 'inmemory', ttl, inmemorysize, ...lru } };
    }
    return { caches: { blobdescriptor: 'redis', redis: redisEndpointOf(document.redis), ttl, inmemorysize, ...lru } };
  }
  return { caches: { blobdescriptor: 'inmemory', ttl, inmemorysize, ...lru } };
}

/** the redis passwords, for the log redactor */
export function cachePasswords(config: { readonly caches?: CacheConfig }): string[] {
  const endpoints = [config.caches?.redis, config.caches?.lru];
  return endpoints.flatMap((endpoint) => (endpoint?.password ? [endpoint.password] : []));
}
