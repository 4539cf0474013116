/**
 * Importing a plugin's entry module: the file named by package.json `exports` (or `main`), loaded with
 * `import()` so ESM and CommonJS plugins both work, then checked for a factory.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DriverFactory } from '../storage/driver.js';
import { PluginError } from './errors.js';
import type { PluginPackage } from './manifest.js';

/** the conditions stowage loads under, in Node's order of preference for `import()` */
const CONDITIONS = new Set(['node', 'import', 'default']);

/** The target of an `exports` value for the `.` subpath, or undefined when it names none stowage can load. */
function exportsTarget(value: unknown, allowRequire: boolean): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const item of value) {
      const target = exportsTarget(item, allowRequire);
      if (target) return target;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const entries = Object.entries(value as Record<string, unknown>);
  const dot = entries.find(([key]) => key === '.');
  if (dot) return exportsTarget(dot[1], allowRequire);
  for (const [key, target] of entries) {
    if (CONDITIONS.has(key) || (allowRequire && key === 'require')) {
      const resolved = exportsTarget(target, allowRequire);
      if (resolved) return resolved;
    }
  }
  return undefined;
}

/** Absolute path of the module stowage imports for this package. */
export function entryFile(pkg: PluginPackage): string {
  const { packageJson } = pkg;
  let relative: string | undefined;
  if (packageJson['exports'] !== undefined) {
    relative = exportsTarget(packageJson['exports'], false) ?? exportsTarget(packageJson['exports'], true);
    if (!relative) {
      throw new PluginError(
        'PLUGIN_INVALID',
        `plugin ${pkg.manifest.name} at ${pkg.dir} is not a valid stowage plugin: package.json "exports" has no "." entry stowage can import`,
        { plugin: pkg.manifest.name, location: pkg.dir },
      );
    }
  } else {
    relative = typeof packageJson['main'] === 'string' ? packageJson['main'] : 'index.js';
  }
  const file = path.resolve(pkg.dir, relative);
  if (!existsSync(file)) {
    throw new PluginError(
      'PLUGIN_INVALID',
      `plugin ${pkg.manifest.name} at ${pkg.dir} is not a valid stowage plugin: its entry module ${relative} does not exist (is the plugin built?)`,
      { plugin: pkg.manifest.name, location: pkg.dir },
    );
  }
  return file;
}

/** the module a "not found" error is about: a bare package name, or a file path/URL */
function missingModule(err: { message?: unknown }): string | undefined {
  const message = typeof err.message === 'string' ? err.message : '';
  const match = /Cannot find (?:package|module) '([^']+)'/.exec(message);
  return match?.[1];
}

function isOwnFile(dir: string, file: string): boolean {
  const relative = path.relative(dir, file);
  return !relative.startsWith('..') && !path.isAbsolute(relative) && !relative.split(path.sep).includes('node_modules');
}

function isNotFound(err: unknown): err is { code: string; message: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** Imports the entry module and returns its factory: `createDriver`, or the default export when it is a function. */
export async function importFactory(pkg: PluginPackage): Promise<DriverFactory> {
  const name = pkg.manifest.name;
  const file = entryFile(pkg);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if (isNotFound(err)) {
      const missing = missingModule(err) ?? 'a module';
      const missingPath = missing.startsWith('file:') ? new URL(missing).pathname : missing;
      const insidePlugin = path.isAbsolute(missingPath) && isOwnFile(pkg.dir, missingPath);
      if (insidePlugin) {
        throw new PluginError(
          'PLUGIN_INVALID',
          `plugin ${name} at ${pkg.dir} is incomplete: its file ${path.relative(pkg.dir, missingPath)} is missing (is the plugin built?)`,
          { plugin: name, location: pkg.dir, missing: missingPath },
          { cause: err },
        );
      }
      throw new PluginError(
        'PLUGIN_DEPENDENCY_MISSING',
        `plugin ${name} at ${pkg.dir} cannot be loaded: it imports ${missing}, which is not installed ` +
          `(install the plugin's dependencies, e.g. npm install in the project that holds it)`,
        { plugin: name, location: pkg.dir, missing },
        { cause: err },
      );
    }
    const reason = err instanceof Error ? err.message : String(err);
    throw new PluginError('PLUGIN_INVALID', `plugin ${name} at ${pkg.dir} failed to load its entry module ${file}: ${reason}`, {
      plugin: name,
      location: pkg.dir,
    }, { cause: err });
  }
  const factory = pickFactory(module);
  if (!factory) {
    const exported = Object.keys(module).join(', ') || 'nothing';
    throw new PluginError(
      'PLUGIN_INVALID',
      `plugin ${name} at ${pkg.dir} is not a valid stowage plugin: its entry module ${file} exports no createDriver function ` +
        `and no default function (it exports: ${exported})`,
      { plugin: name, location: pkg.dir },
    );
  }
  return factory;
}

function pickFactory(module: Record<string, unknown>): DriverFactory | undefined {
  if (typeof module['createDriver'] === 'function') return module['createDriver'] as DriverFactory;
  const fallback = module['default'];
  if (typeof fallback === 'function') return fallback as DriverFactory;
  // a CommonJS module's exports object arrives as the default export
  if (fallback !== null && typeof fallback === 'object') {
    const nested = (fallback as Record<string, unknown>)['createDriver'];
    if (typeof nested === 'function') return nested as DriverFactory;
  }
  return undefined;
}
