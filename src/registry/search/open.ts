/** The search index the `search` section asks for (src/config/search.ts). */
import type { SearchConfig } from '../../config/search.js';
import type { RegistryLogger } from '../logger.js';
import { SearchIndex } from './index.js';
import { MemorySearchStore } from './memory-store.js';
import { PostgresSearchStore } from './postgres-store.js';
import { SqliteSearchStore } from './sqlite-store.js';
import { DisabledSearchStore } from './disabled-store.js';

/**
 * A configured SQLite file that cannot be opened stops startup with the reason; the default file (in the
 * storage root) falls back to memory with a warning, as stowage ran before it had a database.
 */
export function openSearchIndex(config: SearchConfig | undefined, logger: RegistryLogger): SearchIndex {
  switch (config?.backend) {
    case 'postgres':
      return new SearchIndex(new PostgresSearchStore(config.url!, logger), logger);
    case 'none':
      return new SearchIndex(new DisabledSearchStore(), logger);
    case 'sqlite':
      try {
        return new SearchIndex(new SqliteSearchStore(config.path!), logger);
      } catch (err) {
        if (config.pathFrom === 'search.path') throw new Error(`cannot open the search index ${config.path} (search.path): ${(err as Error).message}`, { cause: err });
        logger.warn({ err, path: config.path }, 'search index: cannot open the default SQLite file in the storage root; keeping the index in memory (set search.path)');
        return new SearchIndex(new MemorySearchStore(), logger);
      }
    default:
      return new SearchIndex(new MemorySearchStore(), logger);
  }
}
