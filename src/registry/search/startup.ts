/**
 * At server start: which search index this process uses, and, when it was never built (a new database, or one
 * `stowage search reindex` never filled), a build from storage in the background. Searches made meanwhile
 * wait for it; pushes and deletes are recorded as usual (a build does not overwrite what they wrote).
 */
import type { Registry } from '../index.js';
import type { RegistryLogger } from '../logger.js';

export interface SearchStartup {
  /** http.workers: how many processes serve (each has its own Registry) */
  readonly workers?: number;
  /** whether this process builds a new index (one worker does; the others' searches build it only if they come first) */
  readonly builds?: boolean;
}

export function startSearchIndex(registry: Registry, logger: RegistryLogger, startup: SearchStartup = {}): void {
  const store = registry.searchStore();
  if (store.kind === 'none') {
    logger.info({ index: store.kind }, 'search is off (search.backend: none)');
    return;
  }
  logger.info({ index: store.kind, ...(store.location ? { location: store.location } : {}) }, 'search index');
  if (store.kind === 'memory' && (startup.workers ?? 1) > 1) {
    logger.warn(
      { index: store.kind, key: 'search.backend' },
      'each of the http.workers keeps its own in-memory search index: a push through one worker is found through another only after a restart; use search.backend sqlite (search.path) or postgres',
    );
  }
  // a memory index is built on the first search, as before: a process that is never searched never reads all of storage
  if (store.kind === 'memory' || startup.builds === false) return;
  registry.prepareSearch().then(
    () => logger.debug({ index: store.kind }, 'search index ready'),
    (err: unknown) => logger.warn({ err, index: store.kind }, 'search index: the build from storage failed; searches will try again (or run `stowage search reindex`)'),
  );
}
