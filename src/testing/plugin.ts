/** The conformance kit on a plugin package, built as stowage builds it (see src/plugins/from-folder.ts). */
import path from 'node:path';
import { pluginFolderOf, loadPluginDriver, type LoadPluginOptions } from '../plugins/from-folder.js';
import { runDriverConformance, type DriverConformanceOptions } from './conformance.js';

export { loadPluginDriver, readPlugin, type LoadPluginOptions } from '../plugins/from-folder.js';

export interface PluginConformanceOptions extends Omit<DriverConformanceOptions, 'create' | 'name'>, LoadPluginOptions {
  /** the plugin package: its folder, or a file: URL of it (`new URL('..', import.meta.url)` from its tests) */
  readonly plugin: string | URL;
  /** shown in the describe block; default the folder's name */
  readonly name?: string;
}

/** The conformance kit on a plugin package, its options validated and defaulted by its own schema. */
export function runPluginConformance(options: PluginConformanceOptions): void {
  const { plugin, name, options: driverOptions, baseDir, logger, ...kit } = options;
  runDriverConformance({
    ...kit,
    name: name ?? path.basename(pluginFolderOf(plugin)),
    create: () =>
      loadPluginDriver(plugin, { ...(driverOptions ? { options: driverOptions } : {}), ...(baseDir ? { baseDir } : {}), ...(logger ? { logger } : {}) }),
  });
}
