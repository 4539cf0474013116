import path from 'node:path';
import type { PreparedPlugin } from '../plugins/index.js';

/** options that say where the data lives, in the order they are tried for the one-line summary */
const WHERE_OPTIONS = ['rootdirectory', 'baseurl', 'endpoint', 'authurl', 'bucket', 'container'];

/** `filesystem at /srv/data` or `ufile at http://bucket.cn-bj.ufileos.com`; never a secret. */
export function storageSummary(plugin: PreparedPlugin, baseDir: string): string {
  const name = plugin.package.manifest.name;
  for (const key of WHERE_OPTIONS) {
    const value = plugin.maskedOptions[key];
    if (typeof value !== 'string' || value === '' || plugin.secretPaths.includes(key)) continue;
    // drivers resolve a relative root against the config's folder; show where the data really is
    return `${name} at ${key === 'rootdirectory' ? path.resolve(baseDir, value) : value}`;
  }
  return name;
}

export function pluginOrigin(plugin: PreparedPlugin): string {
  const pkg = plugin.package;
  return `${plugin.source} plugin ${pkg.packageName}@${pkg.version} at ${pkg.dir}`;
}
