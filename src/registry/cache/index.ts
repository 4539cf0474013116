/** The registry's caches, built from storage.cache (docs/config.md, Caches). */
import type { CacheConfig, RedisEndpointConfig } from '../../config/caches.js';
import { parseDurationMs } from '../duration.js';
import type { RegistryLogger } from '../logger.js';
import type { CacheKind, RegistryCaches } from './cached-driver.js';
import { InProcessStore } from './memory-store.js';
import { RedisStore, type RedisSettings } from './redis-store.js';

export { cachedDriver, type CacheKind, type RegistryCaches } from './cached-driver.js';

const redisSettingsOf = (endpoint: RedisEndpointConfig): RedisSettings => ({
  host: endpoint.host,
  port: endpoint.port,
  db: endpoint.db,
  ...(endpoint.password !== undefined ? { password: endpoint.password } : {}),
  ...(endpoint.username !== undefined ? { username: endpoint.username } : {}),
  dialTimeoutMs: parseDurationMs(endpoint.dialtimeout),
  commandTimeoutMs: parseDurationMs(endpoint.readtimeout),
});

export function createRegistryCaches(config: CacheConfig, logger: RegistryLogger, counted?: (kind: CacheKind, hit: boolean) => void): RegistryCaches {
  const ttlSeconds = Math.max(1, Math.round(parseDurationMs(config.ttl) / 1000));
  const inProcess = new InProcessStore(config.inmemorysize);
  const descriptors = config.blobdescriptor === 'redis' && config.redis ? new RedisStore(redisSettingsOf(config.redis), ttlSeconds, logger, 'cache') : inProcess;
  const smallObjects = config.lru ? new RedisStore(redisSettingsOf(config.lru), ttlSeconds, logger, 'cache_lru') : inProcess;
  return {
    descriptors,
    smallObjects,
    ...(counted ? { counted } : {}),
    close: async () => {
      await Promise.all([...new Set([descriptors, smallObjects, inProcess])].map((store) => store.close()));
    },
  };
}
