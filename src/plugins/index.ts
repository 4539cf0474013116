/** Storage plugins: discovery by name, manifest and options checks, loading. */
export { PluginError, isPluginError, type PluginErrorCode } from './errors.js';
export { findPlugin, npmPackageNames, BUILTIN_PLUGINS_DIR, type PluginSource, type FoundPlugin, type DiscoveryScope } from './discover.js';
export { readPluginPackage, MANIFEST_SCHEMA_FILE, type PluginManifest, type PluginPackage } from './manifest.js';
export { MASK, maskOptions, type DriverOptions } from './options.js';
export { preparePlugin, createStorageDriver, discoveryScope, type PreparedPlugin } from './load.js';
export { listPlugins, type ListedPlugin } from './list.js';
export { STOWAGE_ROOT } from './stowage-root.js';
