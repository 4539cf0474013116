/**
 * What a plugin's factory returned, checked before the first request: a driver with every method its
 * contract version requires. A version-1 driver is adapted to version 2 here.
 */
import type { StorageDriver, StorageDriverV1 } from '../storage/driver.js';
import { OPTIONAL_DRIVER_CALL_NAMES } from '../storage/optional-calls.js';
import { adaptV1Driver } from '../storage/v1-adapter.js';
import { PluginError } from './errors.js';
import type { PluginPackage } from './manifest.js';

const REQUIRED_V1 = ['getContent', 'putContent', 'reader', 'writer', 'stat', 'list', 'move', 'delete'] as const;
const REQUIRED_V2 = [...REQUIRED_V1, 'uploadSize'] as const;

/** The driver the factory returned, adapted to the current contract; PLUGIN_INVALID naming what is missing. */
export function checkedDriver(value: unknown, pkg: PluginPackage): StorageDriver {
  const apiVersion = pkg.manifest.apiVersion;
  const invalid = (what: string) =>
    new PluginError('PLUGIN_INVALID', `plugin ${pkg.manifest.name} at ${pkg.dir}: its factory returned ${what}`, {
      plugin: pkg.manifest.name,
      location: pkg.dir,
    });
  if (value === null || typeof value !== 'object') throw invalid(`${value === null ? 'null' : typeof value}, not a storage driver`);
  const candidate = value as Record<string, unknown>;
  const required = apiVersion === 1 ? REQUIRED_V1 : REQUIRED_V2;
  const missing = required.filter((method) => typeof candidate[method] !== 'function');
  if (missing.length > 0) {
    throw invalid(`a driver without ${missing.join(', ')} (required by driver API ${apiVersion}, see src/storage/driver.ts)`);
  }
  const wrongOptional = OPTIONAL_DRIVER_CALL_NAMES.filter((method) => candidate[method] !== undefined && typeof candidate[method] !== 'function');
  if (wrongOptional.length > 0) throw invalid(`a driver whose ${wrongOptional.join(', ')} is not a function`);
  if (typeof candidate['name'] !== 'string' || candidate['name'] === '') {
    throw invalid('a driver without a `name` (the plugin name stamped into its errors)');
  }
  return apiVersion === 1 ? adaptV1Driver(value as StorageDriverV1) : (value as StorageDriver);
}
