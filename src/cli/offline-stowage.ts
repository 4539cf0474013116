/**
 * The storage stack a one-shot maintenance command runs on (garbage-collect, retention): the plugin and its
 * driver wired through the composition root, with no server. Logs go to stderr at warn (debug when the config
 * asks), so stdout holds the command's report; secrets go to the one process redactor.
 */
import pino from 'pino';
import type { DependencyContainer } from 'tsyringe';
import { createStowageContainer } from '../container.js';
import { REGISTRY } from '../tokens.js';
import type { StowageConfig } from '../config/index.js';
import { createLogger, processRedactor } from '../logger.js';
import { searchSecrets } from '../config/search.js';
import { createStorageDriver, preparePlugin, type PreparedPlugin } from '../plugins/index.js';

export interface OfflineStowage {
  readonly plugin: PreparedPlugin;
  readonly container: DependencyContainer;
  /** closes the driver and the container */
  close(): Promise<void>;
}

/** `rebuildsSearchIndex`: `stowage search reindex`, which makes the index; the others only keep one that exists */
export async function openOfflineStowage(config: StowageConfig, options: { rebuildsSearchIndex?: boolean } = {}): Promise<OfflineStowage> {
  const redactor = processRedactor;
  const level = config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'warn';
  const logger = createLogger({ level, redactor, destination: pino.destination({ dest: 2, sync: true }) });
  const plugin = await preparePlugin(config);
  redactor.add(plugin.secrets);
  redactor.add(searchSecrets(config));
  const driver = await createStorageDriver(plugin, logger, config.baseDir);
  const container = createStowageContainer({ config, logger, redactor, driver, searchIndexUse: { maintenance: !options.rebuildsSearchIndex } });
  return {
    plugin,
    container,
    close: async () => {
      await container.resolve(REGISTRY).closeCaches();
      await driver.close?.();
      await container.dispose();
    },
  };
}
