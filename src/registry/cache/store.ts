/**
 * A cache store: values under keys grouped in scopes, where a scope is invalidated as a whole by bumping its
 * generation. A value is filled only if the scope's generation is still the one seen before the storage read
 * that produced it, so a read racing a write (in this process or another sharing the store) never leaves the
 * old value behind: the write bumps the generation after it lands, and the late fill is refused.
 *
 * Stores never throw: a store that cannot answer (redis down) answers a miss, and the registry reads storage.
 */
export interface CacheLookup {
  /** the cached value, undefined on a miss */
  readonly value: string | undefined;
  /** the scope's generation now; pass it to fill after reading storage (undefined: do not fill) */
  readonly generation: string | undefined;
}

export interface CacheStore {
  /** what the store is, for logs (`redis 127.0.0.1:6379 db 0`, `in-process`) */
  readonly description: string;
  /** whether every process on the storage sees the same store (redis), so mutable things may be cached */
  readonly shared: boolean;
  /** `scopes`: every scope the value depends on (a repository's link depends on the repository and on all of them) */
  lookup(scopes: readonly string[], key: string): Promise<CacheLookup>;
  fill(scopes: readonly string[], generation: string, key: string, value: string): Promise<void>;
  invalidate(scope: string): Promise<void>;
  close(): Promise<void>;
}

/** the global generation every repository scope also depends on (bumped when a namespace folder goes) */
export const REPOSITORIES_SCOPE = 'repositories';
export const BLOBS_SCOPE = 'blobs';
export const repositoryScope = (name: string): string => `repository:${name}`;
