/**
 * `stowage/testing`: what a storage driver author needs to test a driver the way stowage uses it.
 *
 * ```ts
 * import { createDriverContext, runDriverConformance } from 'stowage/testing';
 * runDriverConformance({ name: 'mydriver', create: () => createDriver(options, createDriverContext('mydriver')) });
 * ```
 */
export { runDriverConformance, type DriverConformanceOptions } from './conformance.js';
export { createDriverContext } from './context.js';
export { loadPluginDriver, readPlugin, runPluginConformance, type LoadPluginOptions, type PluginConformanceOptions } from './plugin.js';
export { profiles, type ConformanceProfile, type ConformanceSizes } from './profiles.js';
