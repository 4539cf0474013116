/**
 * A plugin package from its folder, loaded the way `stowage serve` loads it: manifest checked, options
 * validated against its schema (defaults applied, unknown keys refused), factory called with a driver
 * context, the driver's shape checked and, for a version-1 plugin, adapted. For `plugins verify` and the kit.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedConfig } from '../config/embedded.js';
import type { StowageConfig } from '../config/types.js';
import type { DriverLogger, StorageDriver } from '../storage/driver.js';
import { driverErrors } from '../storage/errors.js';
import { checkedDriver } from './driver-shape.js';
import { importFactory } from './entry.js';
import { readPluginPackage, type PluginPackage } from './manifest.js';
import { readOptionsSchema, validateOptions } from './options.js';

const quietLogger: DriverLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

export const pluginFolderOf = (plugin: string | URL): string => path.resolve(plugin instanceof URL ? fileURLToPath(plugin) : plugin);

/** The checked manifest of the plugin package in `plugin` (a folder path or file: URL). */
export async function readPlugin(plugin: string | URL): Promise<PluginPackage> {
  const dir = pluginFolderOf(plugin);
  return readPluginPackage(dir, dir);
}

export interface LoadPluginOptions {
  /** the driver's options as an operator would write them under `storage.<name>` */
  readonly options?: Readonly<Record<string, unknown>>;
  /** what relative paths in the options are resolved against; default the working folder */
  readonly baseDir?: string;
  readonly logger?: DriverLogger;
}

/** A driver from the plugin package in `plugin`, built exactly as `stowage serve` builds it (unwrapped). */
export async function loadPluginDriver(plugin: string | URL, options: LoadPluginOptions = {}): Promise<StorageDriver> {
  const pkg = await readPlugin(plugin);
  const schema = await readOptionsSchema(pkg);
  const factory = await importFactory(pkg);
  const baseDir = options.baseDir ?? process.cwd();
  const { options: validated } = validateOptions(pkg, schema, pluginConfig(pkg, options.options ?? {}, baseDir));
  const created: unknown = await factory(validated, { logger: options.logger ?? quietLogger, errors: driverErrors(pkg.manifest.name), baseDir });
  return checkedDriver(created, pkg);
}

/** The configuration `storage: { <name>: options }` would give, for validating options outside a config file. */
function pluginConfig(pkg: PluginPackage, options: Readonly<Record<string, unknown>>, baseDir: string): StowageConfig {
  return embeddedConfig({ storage: { [pkg.manifest.name]: { ...options } } }, baseDir);
}
