/**
 * A store in redis, shared by every stowage process on one storage. Generations and values live in redis, so
 * a write through one process invalidates what every other process reads next. Any redis failure is a miss
 * (reads) or nothing (fills); entries also expire after `ttlSeconds`, which bounds how long a value can
 * outlive an invalidation that could not reach redis.
 */
import type { Redis } from 'ioredis';
import { loadWhenNeeded } from '../../load-when-needed.js';
import type { RegistryLogger } from '../logger.js';
import type { CacheLookup, CacheStore } from './store.js';

export interface RedisSettings {
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly password?: string;
  readonly username?: string;
  /** connect timeout (distribution's dialtimeout) */
  readonly dialTimeoutMs: number;
  /** how long one command may take before it counts as a miss */
  readonly commandTimeoutMs: number;
}

const ioredis = loadWhenNeeded<typeof import('ioredis')>('ioredis');

const KEY_PREFIX = 'stowage:';

// the generation of a value is the generations of every scope it depends on, read in one round trip
const GENERATION = `
local parts = {}
for i, key in ipairs(KEYS) do parts[i] = redis.call('GET', key) or '0' end
local generation = table.concat(parts, '.')
`;
const LOOKUP = `${GENERATION}
return {generation, redis.call('GET', '${KEY_PREFIX}value:' .. generation .. ':' .. ARGV[1])}`;
const FILL = `${GENERATION}
if generation == ARGV[1] then redis.call('SET', '${KEY_PREFIX}value:' .. generation .. ':' .. ARGV[2], ARGV[3], 'EX', ARGV[4]) end
return 0`;

const generationKey = (scope: string): string => `${KEY_PREFIX}generation:${scope}`;

export class RedisStore implements CacheStore {
  readonly description: string;
  readonly shared = true;
  private readonly client: Redis;
  private broken = false;

  constructor(
    settings: RedisSettings,
    private readonly ttlSeconds: number,
    private readonly logger: RegistryLogger,
    purpose: string,
  ) {
    this.description = `redis ${settings.host}:${settings.port} db ${settings.db} (${purpose})`;
    this.client = new (ioredis().Redis)({
      host: settings.host,
      port: settings.port,
      db: settings.db,
      ...(settings.password ? { password: settings.password } : {}),
      ...(settings.username ? { username: settings.username } : {}),
      connectTimeout: settings.dialTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      // while redis is away, commands fail at once (a miss) instead of queueing behind a reconnect
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.client.on('error', (err: Error) => this.failed(err));
    this.client.on('ready', () => {
      if (this.broken) this.logger.info({ cache: this.description }, 'cache reachable again');
      this.broken = false;
    });
  }

  /** logged once per outage: the registry keeps serving from storage */
  private failed(err: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.logger.warn({ cache: this.description, err: { message: (err as Error).message } }, 'cache unreachable: reading storage directly');
  }

  async lookup(scopes: readonly string[], key: string): Promise<CacheLookup> {
    try {
      const [generation, value] = (await this.client.eval(LOOKUP, scopes.length, ...scopes.map(generationKey), key)) as [string, string | null];
      return { value: value ?? undefined, generation };
    } catch (err) {
      this.failed(err);
      return { value: undefined, generation: undefined };
    }
  }

  async fill(scopes: readonly string[], generation: string, key: string, value: string): Promise<void> {
    try {
      await this.client.eval(FILL, scopes.length, ...scopes.map(generationKey), generation, key, value, String(this.ttlSeconds));
    } catch (err) {
      this.failed(err);
    }
  }

  async invalidate(scope: string): Promise<void> {
    try {
      await this.client.incr(generationKey(scope));
    } catch (err) {
      this.failed(err);
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
