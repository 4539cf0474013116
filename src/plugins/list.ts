/** `listPlugins`: every storage plugin visible from a configuration, for `stowage plugins list`. */
import type { StowageConfig } from '../config/types.js';
import { visiblePlugins, type PluginSource } from './discover.js';
import { readPackageJson } from './manifest.js';
import { discoveryScope } from './load.js';

export interface ListedPlugin {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly version: string;
  readonly packageName: string;
  readonly source: PluginSource;
  readonly location: string;
  /** the driver API it implements, as its manifest says */
  readonly apiVersion: unknown;
  /** false when an earlier source already provides this name (discovery would never pick it) */
  readonly active: boolean;
}

export async function listPlugins(config: StowageConfig): Promise<ListedPlugin[]> {
  const listed: ListedPlugin[] = [];
  const taken = new Set<string>();
  for (const { source, dir } of await visiblePlugins(discoveryScope(config))) {
    const packageJson = await readPackageJson(dir);
    const manifest = packageJson?.['stowage'] as Record<string, unknown> | undefined;
    if (!manifest || typeof manifest !== 'object' || manifest['type'] !== 'storage' || typeof manifest['name'] !== 'string') continue;
    if (listed.some((p) => p.location === dir)) continue;
    const name = manifest['name'];
    const aliases = Array.isArray(manifest['aliases']) ? manifest['aliases'].filter((a): a is string => typeof a === 'string') : [];
    listed.push({
      name,
      aliases,
      version: typeof packageJson?.['version'] === 'string' ? packageJson['version'] : '0.0.0',
      packageName: typeof packageJson?.['name'] === 'string' ? packageJson['name'] : dir,
      source,
      location: dir,
      apiVersion: manifest['apiVersion'],
      active: !taken.has(name),
    });
    taken.add(name);
  }
  return listed;
}
