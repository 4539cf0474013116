/**
 * Reading a plugin package: its package.json, the `stowage` manifest in it, checked against
 * schemas/plugin-manifest.schema.json and against the driver API version this stowage implements.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js';
import { STORAGE_API_VERSION, SUPPORTED_STORAGE_API_VERSIONS } from '../storage/driver.js';
import { PluginError } from './errors.js';
import { STOWAGE_ROOT } from './stowage-root.js';

export interface PluginManifest {
  readonly type: 'storage';
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly apiVersion: number;
  /** path of the options schema, relative to the package folder */
  readonly schema?: string;
  readonly legacyOptions?: Readonly<Record<string, string>>;
}

export type PackageJson = Readonly<Record<string, unknown>>;

/** A plugin package whose manifest passed every check. */
export interface PluginPackage {
  readonly dir: string;
  readonly packageName: string;
  readonly version: string;
  readonly manifest: PluginManifest;
  readonly packageJson: PackageJson;
}

export const MANIFEST_SCHEMA_FILE = path.join(STOWAGE_ROOT, 'schemas', 'plugin-manifest.schema.json');

let validateManifestShape: ((data: unknown) => readonly ErrorObject[]) | undefined;

function manifestProblems(manifest: unknown): string[] {
  if (!validateManifestShape) {
    const ajv = new Ajv2020.default({ allErrors: true, strict: true });
    const validate = ajv.compile(JSON.parse(readFileSync(MANIFEST_SCHEMA_FILE, 'utf8')) as object);
    validateManifestShape = (data) => (validate(data) ? [] : (validate.errors ?? []));
  }
  return validateManifestShape(manifest).map((e) => {
    const where = `stowage${e.instancePath.replace(/\//g, '.')}`;
    if (e.keyword === 'additionalProperties') {
      return `${where}.${String(e.params['additionalProperty'])}: is not a manifest field (known: type, name, aliases, apiVersion, schema, legacyOptions)`;
    }
    if (e.keyword === 'required') return `${where}.${String(e.params['missingProperty'])}: is required`;
    if (e.keyword === 'const') return `${where}: must be "storage"`;
    return `${where}: ${e.message ?? 'is not valid'}`;
  });
}

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The parsed package.json of a folder, or undefined when it has none (or none that parses). */
export async function readPackageJson(dir: string): Promise<PackageJson | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'package.json'), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isMapping(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The names a package answers to, read leniently: used while searching, before any strict check. */
export function manifestNames(packageJson: PackageJson | undefined): string[] {
  const manifest = packageJson?.['stowage'];
  if (!isMapping(manifest)) return [];
  const names = typeof manifest['name'] === 'string' ? [manifest['name']] : [];
  const aliases = Array.isArray(manifest['aliases']) ? manifest['aliases'].filter((a): a is string => typeof a === 'string') : [];
  return [...names, ...aliases];
}

/**
 * Checks the manifest of the package in `dir` (asked for as `requested`): PLUGIN_INVALID naming what is
 * wrong, or PLUGIN_API_MISMATCH when it implements another driver API.
 */
export async function readPluginPackage(dir: string, requested: string): Promise<PluginPackage> {
  const packageJson = await readPackageJson(dir);
  const invalid = (what: string) =>
    new PluginError('PLUGIN_INVALID', `plugin ${requested} at ${dir} is not a valid stowage plugin: ${what}`, {
      plugin: requested,
      location: dir,
    });
  if (!packageJson) throw invalid('package.json is missing or is not a JSON object');
  const manifest = packageJson['stowage'];
  if (!isMapping(manifest)) throw invalid('package.json has no "stowage" manifest object');

  const apiVersion = manifest['apiVersion'];
  if (typeof apiVersion === 'number' && !SUPPORTED_STORAGE_API_VERSIONS.includes(apiVersion)) {
    throw new PluginError(
      'PLUGIN_API_MISMATCH',
      `plugin ${requested} at ${dir} implements driver API ${apiVersion}; this stowage implements ${STORAGE_API_VERSION} and loads ${SUPPORTED_STORAGE_API_VERSIONS.join(', ')}`,
      { plugin: requested, location: dir },
    );
  }
  const problems = manifestProblems(manifest);
  if (problems.length > 0) throw invalid(`package.json: ${problems.join('; ')}`);

  const packageName = typeof packageJson['name'] === 'string' ? packageJson['name'] : path.basename(dir);
  const version = typeof packageJson['version'] === 'string' ? packageJson['version'] : '0.0.0';
  return { dir, packageName, version, manifest: manifest as unknown as PluginManifest, packageJson };
}
