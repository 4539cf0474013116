/**
 * `stowage search reindex`: reads every repository, tag and tagged manifest from storage into the search
 * index (search.backend sqlite or postgres). Safe while servers run on the same storage and index: each
 * repository is written in one transaction, and a push or delete they record meanwhile is not overwritten.
 */
import { REGISTRY } from '../tokens.js';
import { storageSummary } from './describe-storage.js';
import { CliFailure } from './failure.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { openOfflineStowage } from './offline-stowage.js';

export async function searchReindexCommand(flags: ConfigFlag): Promise<void> {
  const config = await configFor(flags);
  const backend = config.search?.backend ?? 'memory';
  const where = config.source.file ?? 'the defaults';
  if (backend === 'none') throw new CliFailure(`search is off (search.backend: none in ${where}): there is no index to rebuild`);
  if (backend === 'memory') {
    throw new CliFailure(`the search index is kept in memory (search.backend in ${where}): each server builds its own at start; set search.path or search.backend: postgres for an index this command can rebuild`);
  }
  const { plugin, container, close } = await openOfflineStowage(config, { rebuildsSearchIndex: true });
  try {
    const registry = container.resolve(REGISTRY);
    const index = registry.searchStore();
    process.stderr.write(`rebuilding the search index (${index.kind}${index.location ? ` ${index.location}` : ''}) from ${storageSummary(plugin, config.baseDir)}\n`);
    const repositories = await registry.reindexSearch();
    process.stdout.write(`search index rebuilt: ${repositories} repositories\n`);
  } finally {
    await close();
  }
}
