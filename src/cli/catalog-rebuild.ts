/**
 * `stowage catalog rebuild`: walks the repository tree and writes a new base for the catalog index
 * (src/registry/catalog-index.ts), so that repositories something other than stowage added (registry:2 on
 * the same storage, a copied or restored tree) are listed; and readies each repository's tag listing (the
 * filesystem driver writes a large tags folder's sorted listing beside it), so that the first tag page after
 * such a write reads one file rather than 100,000 folder entries. Safe while servers run on the same storage: a
 * repository they create meanwhile is in the index's journal, which the new base does not replace.
 */
import { REGISTRY } from '../tokens.js';
import { storageSummary } from './describe-storage.js';
import { CliFailure } from './failure.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { openOfflineStowage } from './offline-stowage.js';

export async function catalogRebuildCommand(flags: ConfigFlag): Promise<void> {
  const config = await configFor(flags);
  if (config.storage.maintenance.readonly.enabled) {
    throw new CliFailure(`storage is read-only (storage.maintenance.readonly.enabled in ${config.source.file ?? 'the defaults'}): the catalog index cannot be written`);
  }
  const { plugin, container, close } = await openOfflineStowage(config);
  try {
    process.stderr.write(`rebuilding the catalog index from ${storageSummary(plugin, config.baseDir)}\n`);
    // the step after writing storage directly: large tag folders get their listing files too (filesystem driver)
    const repositories = await container.resolve(REGISTRY).rebuildCatalogIndex({ tagListings: true });
    process.stdout.write(`catalog index rebuilt: ${repositories} repositories\n`);
  } finally {
    await close();
  }
}
