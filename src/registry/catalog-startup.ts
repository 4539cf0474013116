/**
 * The catalog index at `stowage serve`'s start: built in the background, by the process that runs the
 * periodic tasks, when storage has none (a tree registry:2 or an older stowage wrote). Pages walk the tree
 * until it is there.
 */
import type { Registry } from './index.js';
import type { RegistryLogger } from './logger.js';

export function startCatalogIndex(registry: Registry, logger: RegistryLogger, startup: { readonly builds: boolean }): void {
  if (!startup.builds) return;
  registry.prepareCatalogIndex().then(
    (built) => {
      if (built) logger.info({}, 'catalog index built from a walk of the repositories');
    },
    (err: unknown) => logger.warn({ err }, 'catalog index: the build from storage failed; catalog pages walk the tree (run `stowage catalog rebuild`)'),
  );
}
