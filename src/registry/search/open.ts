/** The search index the `search` section asks for (src/config/search.ts). */
import { existsSync } from 'node:fs';
import type { SearchConfig } from '../../config/search.js';
import type { RegistryLogger } from '../logger.js';
import { SearchIndex } from './index.js';
import { MemorySearchStore } from './memory-store.js';
import { PostgresSearchStore } from './postgres-store.js';
import { SqliteSearchStore } from './sqlite-store.js';
import { DisabledSearchStore } from './disabled-store.js';

export interface SearchIndexUse {
  /**
   * a maintenance command (garbage-collect, retention): an SQLite file is kept up to date only if it exists
   * and opened only when something changed, so a dry run, or a store no server indexed, is left as it was
   */
  readonly maintenance?: boolean;
}

/**
 * A configured SQLite file that cannot be opened stops startup with the reason; the default file (in the
 * storage root) falls back to memory with a warning, as stowage ran before it had a database.
 */
export function openSearchIndex(config: SearchConfig | undefined, logger: RegistryLogger, use: SearchIndexUse = {}): SearchIndex {
  if (use.maintenance && config?.backend === 'sqlite' && !existsSync(config.path!)) return new SearchIndex(new DisabledSearchStore(), logger);
  if (use.maintenance && config?.backend === 'sqlite') return new SearchIndex(new SqliteSearchStore(config.path!), logger);
  switch (config?.backend) {
    case 'postgres':
      return new SearchIndex(new PostgresSearchStore(config.url!, logger), logger);
    case 'none':
      return new SearchIndex(new DisabledSearchStore(), logger);
    case 'sqlite':
      try {
        const store = new SqliteSearchStore(config.path!);
        store.open();
        return new SearchIndex(store, logger);
      } catch (err) {
        if (config.pathFrom === 'search.path') throw new Error(`cannot open the search index ${config.path} (search.path): ${(err as Error).message}`, { cause: err });
        logger.warn({ err, path: config.path }, 'search index: cannot open the default SQLite file in the storage root; keeping the index in memory (set search.path)');
        return new SearchIndex(new MemorySearchStore(), logger);
      }
    default:
      return new SearchIndex(new MemorySearchStore(), logger);
  }
}
