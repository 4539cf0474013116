/**
 * From the name in the config to a working driver: find the plugin, check its manifest, import its entry,
 * validate its options, and (only when asked) call its factory and wrap the driver.
 */
import type { StowageConfig } from '../config/types.js';
import { wrapDriver } from '../storage/base.js';
import type { DriverFactory, DriverLogger, StorageDriver } from '../storage/driver.js';
import { driverErrors } from '../storage/errors.js';
import { checkedDriver } from './driver-shape.js';
import { importFactory } from './entry.js';
import { findPlugin, type DiscoveryScope, type PluginSource } from './discover.js';
import type { PluginPackage } from './manifest.js';
import { maskOptions, readOptionsSchema, secretValues, validateOptions, type DriverOptions } from './options.js';

/** A plugin found, checked and imported, with its options validated; its factory not yet called. */
export interface PreparedPlugin {
  /** the name the config asked for (may be an alias or a package name) */
  readonly requested: string;
  readonly source: PluginSource;
  readonly package: PluginPackage;
  readonly factory: DriverFactory;
  /** validated, defaults applied; holds secrets in clear: never print it, use `maskedOptions` */
  readonly options: DriverOptions;
  readonly maskedOptions: DriverOptions;
  /** dotted option paths the schema marks `writeOnly` */
  readonly secretPaths: readonly string[];
  /** the secret values, for the logger's redactor */
  readonly secrets: readonly string[];
}

export function discoveryScope(config: StowageConfig): DiscoveryScope {
  return { baseDir: config.baseDir, localPaths: config.plugins.paths };
}

export async function preparePlugin(config: StowageConfig): Promise<PreparedPlugin> {
  const requested = config.storage.driver;
  const found = await findPlugin(requested, discoveryScope(config));
  const pkg = found.package;
  const optionsSchema = await readOptionsSchema(pkg);
  const factory = await importFactory(pkg);
  const { options, secretPaths } = validateOptions(pkg, optionsSchema, config);
  return {
    requested,
    source: found.source,
    package: pkg,
    factory,
    options,
    maskedOptions: maskOptions(options, secretPaths),
    secretPaths,
    secrets: secretValues(options, secretPaths),
  };
}

/** Calls the plugin's factory with its validated options and wraps the driver in stowage's checks. */
export async function createStorageDriver(plugin: PreparedPlugin, logger: DriverLogger & { child?: (b: object) => DriverLogger }, baseDir: string): Promise<StorageDriver> {
  const name = plugin.package.manifest.name;
  const driverLogger = logger.child ? logger.child({ driver: name }) : logger;
  const created: unknown = await plugin.factory(structuredClone(plugin.options), { logger: driverLogger, errors: driverErrors(name), baseDir });
  return wrapDriver(checkedDriver(created, plugin.package));
}
