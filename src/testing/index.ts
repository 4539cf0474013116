/**
 * `stowage/testing`: what a storage driver author needs to test a driver the way stowage uses it.
 *
 * ```ts
 * import { createDriverContext, runDriverConformance } from 'stowage/testing';
 * runDriverConformance({ name: 'mydriver', create: () => createDriver(options, createDriverContext('mydriver')) });
 * // or, from the plugin's folder, as stowage loads it (schema defaults applied):
 * runPluginConformance({ plugin: new URL('..', import.meta.url), options: { bucket: 'test' } });
 * // and the registry end to end, with skopeo:
 * describeSkopeoE2E('mydriver', () => startStowageOnDriver(createDriver(options, createDriverContext('mydriver'))));
 * ```
 */
export { runDriverConformance, type DriverConformanceOptions } from './conformance.js';
export { createDriverContext } from './context.js';
export { loadPluginDriver, readPlugin, runPluginConformance, type LoadPluginOptions, type PluginConformanceOptions } from './plugin.js';
export { profiles, type ConformanceProfile, type ConformanceSizes } from './profiles.js';
// registry-level end to end: stowage on your driver, pushed to and pulled from with the real skopeo
export { describeSkopeoE2E } from './e2e/skopeo-e2e.js';
export { startStowageOnDriver, type StowageOnDriverOptions } from './e2e/stowage.js';
export type { RunningRegistry, StartRegistry } from './e2e/registry-under-test.js';
