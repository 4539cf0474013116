/**
 * Finding a plugin by the name written in the config. First hit wins:
 *   1. built-in: plugins/<dir>/ of the stowage package whose manifest name or aliases match;
 *   2. local folders (`plugins.paths`): `<path>/<name>`, or any folder in it whose manifest name matches;
 *   3. npm packages, resolved from the config file's folder and then from stowage's own location.
 * When nothing matches, the error lists every place looked in.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { didYouMean } from '../config/suggest.js';
import { PluginError } from './errors.js';
import { manifestNames, readPackageJson, readPluginPackage, type PluginPackage } from './manifest.js';
import { STOWAGE_ROOT } from './stowage-root.js';

export type PluginSource = 'built-in' | 'local' | 'npm';

export interface FoundPlugin {
  readonly source: PluginSource;
  readonly package: PluginPackage;
}

/** What discovery needs from the configuration. */
export interface DiscoveryScope {
  /** folder the npm search starts from (the config file's folder) */
  readonly baseDir: string;
  /** absolute folders of `plugins.paths` */
  readonly localPaths: readonly string[];
}

export const BUILTIN_PLUGINS_DIR = path.join(STOWAGE_ROOT, 'plugins');

/** Package folders directly under `dir` (those with a package.json), sorted for a stable order. */
export async function packageFolders(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && existsSync(path.join(dir, e.name, 'package.json')))
    .map((e) => path.join(dir, e.name))
    .sort();
}

async function folderAnswering(dir: string, name: string): Promise<string | undefined> {
  for (const folder of await packageFolders(dir)) {
    if (manifestNames(await readPackageJson(folder)).includes(name)) return folder;
  }
  return undefined;
}

/** npm package names tried for a plugin name, in order. */
export function npmPackageNames(name: string): string[] {
  if (name.startsWith('@') || name.startsWith('stowage-driver-')) return [name];
  return [`stowage-driver-${name}`, `@stowage/driver-${name}`];
}

/** node_modules folders Node would search from `start`, nearest first. */
export function nodeModulesChain(start: string): string[] {
  const chain: string[] = [];
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') chain.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) return chain;
  }
}

/** The npm search roots: the config's folder, then stowage's own location, without repeats. */
export function npmSearchPath(baseDir: string): string[] {
  return [...new Set([...nodeModulesChain(baseDir), ...nodeModulesChain(STOWAGE_ROOT)])];
}

/** A valid name is one a folder or a package could carry; anything else never reaches the file system. */
const PLUGIN_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/i;

export async function findPlugin(name: string, scope: DiscoveryScope): Promise<FoundPlugin> {
  const searched: string[] = [];
  if (!PLUGIN_NAME.test(name)) {
    throw new PluginError('PLUGIN_NOT_FOUND', `storage plugin "${name}" is not a valid plugin or npm package name`, {
      plugin: name,
      searched,
    });
  }

  if (!name.startsWith('@')) {
    searched.push(`built-in: ${BUILTIN_PLUGINS_DIR}/*/package.json (manifest name or alias "${name}")`);
    const builtin = await folderAnswering(BUILTIN_PLUGINS_DIR, name);
    if (builtin) return { source: 'built-in', package: await readPluginPackage(builtin, name) };

    for (const localPath of scope.localPaths) {
      const named = path.join(localPath, name);
      searched.push(`local: ${named}`);
      if (existsSync(path.join(named, 'package.json'))) return { source: 'local', package: await readPluginPackage(named, name) };
      searched.push(`local: ${localPath}/*/package.json (manifest name "${name}")`);
      const answering = await folderAnswering(localPath, name);
      if (answering) return { source: 'local', package: await readPluginPackage(answering, name) };
    }
  }

  const roots = npmSearchPath(scope.baseDir);
  for (const packageName of npmPackageNames(name)) {
    searched.push(`npm: package ${packageName} in ${roots.join(', ')}`);
    for (const root of roots) {
      const dir = path.join(root, ...packageName.split('/'));
      if (existsSync(path.join(dir, 'package.json'))) return { source: 'npm', package: await readPluginPackage(dir, name) };
    }
  }

  const suggestion = didYouMean(name, await visibleNames(scope));
  throw new PluginError(
    'PLUGIN_NOT_FOUND',
    `storage plugin "${name}" was not found${suggestion}; looked in:\n${searched.map((s) => `  - ${s}`).join('\n')}\n` +
      `Install it into the project that holds the config (npm install ${npmPackageNames(name)[0]}), ` +
      `or add the folder holding it to plugins.paths. stowage never installs plugins by itself.`,
    { plugin: name, searched },
  );
}

/** Every storage plugin visible from this configuration, in discovery order; a name seen twice is listed once. */
export async function visiblePlugins(scope: DiscoveryScope): Promise<{ source: PluginSource; dir: string }[]> {
  const found: { source: PluginSource; dir: string }[] = [];
  for (const dir of await packageFolders(BUILTIN_PLUGINS_DIR)) found.push({ source: 'built-in', dir });
  for (const localPath of scope.localPaths) {
    for (const dir of await packageFolders(localPath)) found.push({ source: 'local', dir });
  }
  for (const root of npmSearchPath(scope.baseDir)) {
    const candidates = [...(await packageFolders(root)).filter((d) => path.basename(d).startsWith('stowage-driver-'))];
    for (const dir of await packageFolders(path.join(root, '@stowage'))) {
      if (path.basename(dir).startsWith('driver-')) candidates.push(dir);
    }
    for (const scopeDir of (await readdirNames(root)).filter((n) => n.startsWith('@') && n !== '@stowage')) {
      for (const dir of await packageFolders(path.join(root, scopeDir))) {
        if (path.basename(dir).includes('stowage-driver')) candidates.push(dir);
      }
    }
    for (const dir of candidates) found.push({ source: 'npm', dir });
  }
  return found;
}

/** the names (and aliases) of every visible plugin, for suggesting one when a name is mistyped */
async function visibleNames(scope: DiscoveryScope): Promise<string[]> {
  const names: string[] = [];
  for (const { dir } of await visiblePlugins(scope)) {
    try {
      names.push(...manifestNames(await readPackageJson(dir)), path.basename(dir));
    } catch {
      // a broken package.json is reported when that plugin is asked for, not while suggesting another
    }
  }
  return names;
}

async function readdirNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
