/**
 * The catalog index while `stowage serve` runs, in the process that runs the periodic tasks: built in the
 * background at start when storage has none (a tree registry:2 or an older stowage wrote; pages walk the tree
 * until it is there), then reconciled with the tree every `storage.maintenance.catalog.interval`, so that
 * repositories something other than stowage added or removed are listed as they are without an operator
 * (catalog-index.ts). The reconcile walks in the background: requests never wait for it.
 */
import { parseDurationMs } from './duration.js';
import type { Registry } from './index.js';
import type { RegistryLogger } from './logger.js';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.js';

/** storage.maintenance.catalog, as the config holds it */
export interface CatalogIndexSettings {
  /** the time between reconciles; `0` (or `0s`) turns them off */
  readonly interval: string | number;
}

export const DEFAULT_CATALOG_INTERVAL = '10m';

/** The reconcile's interval in ms; 0 when off. */
export function reconcileIntervalMs(settings: CatalogIndexSettings): number {
  return settings.interval === 0 || settings.interval === '0' ? 0 : parseDurationMs(String(settings.interval));
}

/** The catalog index's upkeep: `prepared` settles once the build at start is done (or failed, logged) or was not needed. */
export interface CatalogIndexUpkeep extends PeriodicTask {
  readonly prepared: Promise<void>;
}

export function startCatalogIndex(
  registry: Registry,
  logger: RegistryLogger,
  startup: { readonly builds: boolean; readonly settings?: CatalogIndexSettings },
  random = Math.random,
): CatalogIndexUpkeep {
  if (!startup.builds) return { prepared: Promise.resolve(), stop: async () => undefined };
  const prepared = registry.prepareCatalogIndex().then(
    (built) => {
      if (built) logger.info({}, 'catalog index built from a walk of the repositories');
    },
    (err: unknown) => logger.warn({ err }, 'catalog index: the build from storage failed; catalog pages walk the tree (run `stowage catalog rebuild`)'),
  );
  const intervalMs = reconcileIntervalMs(startup.settings ?? { interval: DEFAULT_CATALOG_INTERVAL });
  if (intervalMs === 0) return { prepared, stop: () => prepared };
  const reconcile = async (): Promise<void> => {
    await prepared;
    try {
      const count = await registry.reconcileCatalogIndex();
      if (count !== undefined) logger.debug({ repositories: count }, 'catalog index reconciled with the repository tree');
    } catch (err) {
      logger.warn({ err }, 'catalog index: the reconcile with the repository tree failed; the next interval retries');
    }
  };
  const task = startPeriodicTask(intervalMs, reconcile, random);
  return {
    prepared,
    async stop() {
      await task.stop();
      await prepared;
    },
  };
}
