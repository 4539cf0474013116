/**
 * A plugin's options: seed keys of a Python docker-registry config mapped through the manifest's
 * `legacyOptions`, then validated with the plugin's JSON Schema (defaults applied, unknown keys rejected
 * by the schema's `additionalProperties: false`). Every problem is reported with the place in the config
 * the operator must edit. Options marked `writeOnly` in the schema are secrets: never shown.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describeValue, typeWords } from '../config/describe.js';
import { unsetMessage } from '../config/legacy-env.js';
import { didYouMean } from '../config/suggest.js';
import type { ConfigIssue, ConfigLocation, StowageConfig } from '../config/types.js';
import { PluginError } from './errors.js';
import type { PluginPackage } from './manifest.js';

export type DriverOptions = Record<string, unknown>;
type JsonSchema = Readonly<Record<string, unknown>>;

/** The options schema of a plugin, compiled; a plugin without one accepts any options. */
export interface OptionsSchema {
  readonly schema?: JsonSchema;
  readonly validate?: ValidateFunction;
}

export const MASK = '********';

export async function readOptionsSchema(pkg: PluginPackage): Promise<OptionsSchema> {
  const relative = pkg.manifest.schema;
  if (relative === undefined) return {};
  const file = path.resolve(pkg.dir, relative);
  const invalid = (what: string, cause?: unknown) =>
    new PluginError(
      'PLUGIN_INVALID',
      `plugin ${pkg.manifest.name} at ${pkg.dir} is not a valid stowage plugin: options schema ${relative} ${what}`,
      { plugin: pkg.manifest.name, location: pkg.dir },
      { cause },
    );
  let schema: JsonSchema;
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('is not a JSON object');
    schema = parsed as JsonSchema;
  } catch (err) {
    if (err instanceof PluginError) throw err;
    throw invalid(`cannot be read: ${(err as Error).message}`, err);
  }
  try {
    // a plugin's schema may carry its own annotation keywords; ajv's strict mode would refuse them
    const ajv = new Ajv2020.default({ allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: false });
    addFormats.default(ajv);
    return { schema, validate: ajv.compile(schema) };
  } catch (err) {
    throw invalid(`is not a valid JSON Schema: ${(err as Error).message}`, err);
  }
}

/** Top-level (and nested) property paths whose schema says `writeOnly: true`, as dotted paths. */
export function secretOptionPaths(schema: JsonSchema | undefined, prefix = ''): string[] {
  const properties = schema?.['properties'];
  if (!properties || typeof properties !== 'object') return [];
  const paths: string[] = [];
  for (const [key, sub] of Object.entries(properties as Record<string, JsonSchema>)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (sub && typeof sub === 'object' && sub['writeOnly'] === true) paths.push(dotted);
    else paths.push(...secretOptionPaths(sub, dotted));
  }
  return paths;
}

/** A copy of the options with every secret value replaced by the mask. */
export function maskOptions(options: DriverOptions, secretPaths: readonly string[]): DriverOptions {
  const copy = structuredClone(options);
  for (const dotted of secretPaths) {
    const keys = dotted.split('.');
    let node: Record<string, unknown> | undefined = copy;
    for (const key of keys.slice(0, -1)) {
      const next: unknown = node?.[key];
      node = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : undefined;
    }
    const last = keys.at(-1)!;
    if (node && node[last] !== undefined) node[last] = MASK;
  }
  return copy;
}

/** The secret values themselves (strings only), for the logger to scrub from anything it writes. */
export function secretValues(options: DriverOptions, secretPaths: readonly string[]): string[] {
  const values: string[] = [];
  for (const dotted of secretPaths) {
    let node: unknown = options;
    for (const key of dotted.split('.')) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (typeof node === 'string' && node.length > 0) values.push(node);
  }
  return values;
}

export interface ValidatedOptions {
  readonly options: DriverOptions;
  readonly secretPaths: readonly string[];
}

/**
 * Maps legacy seed keys, applies defaults and validates. Throws PLUGIN_OPTIONS_INVALID listing every
 * problem, each as `<file>: <path>: <what was expected>`.
 */
export function validateOptions(pkg: PluginPackage, optionsSchema: OptionsSchema, config: StowageConfig): ValidatedOptions {
  const { storage } = config;
  const name = pkg.manifest.name;
  const file = config.source.file ?? '<defaults>';
  const options: DriverOptions = structuredClone({ ...storage.options });
  const places = new Map<string, ConfigLocation>();
  for (const key of Object.keys(options)) {
    places.set(key, storage.optionSources?.[key] ?? { file, path: `${storage.optionsPath}.${key}` });
  }
  const issues: ConfigIssue[] = [];

  const legacyMap = pkg.manifest.legacyOptions ?? {};
  const unsetVariables = new Map<string, string>();
  for (const [seedKey, entry] of Object.entries(storage.legacy ?? {})) {
    const option = legacyMap[seedKey];
    if (option === undefined) {
      const known = Object.keys(legacyMap);
      issues.push({
        file,
        path: entry.path,
        message: `is not a setting of the ${name} storage driver${didYouMean(seedKey, known)} (${known.length > 0 ? `its settings: ${known.join(', ')}` : 'it reads no docker-registry settings'})`,
      });
      continue;
    }
    // an explicit option (e.g. from a REGISTRY_STORAGE_* variable) wins over the seed key
    if (options[option] !== undefined) continue;
    // `_env:NAME` with NAME unset counts as absent (docker-registry's rule); a "required" error names NAME
    if (entry.unsetVariable !== undefined) {
      unsetVariables.set(option, entry.unsetVariable);
      places.set(option, { file, path: entry.path });
      continue;
    }
    options[option] = structuredClone(entry.value);
    places.set(option, { file, path: entry.path });
  }

  const secretPaths = secretOptionPaths(optionsSchema.schema);
  const validate = optionsSchema.validate;
  if (validate && !validate(options)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      const issue = toIssue(error, {
        name,
        file,
        optionsPath: storage.optionsPath,
        places,
        secretPaths,
        legacyMap,
        unsetVariables,
        schema: optionsSchema.schema,
        seedFormat: config.source.format === 'docker-registry',
      });
      const key = `${issue.file}\u0000${issue.path}\u0000${issue.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        issues.push(issue);
      }
    }
  }

  if (issues.length > 0) {
    const lines = issues.map((i) => `  ${i.file}: ${i.path}: ${i.message}`);
    throw new PluginError(
      'PLUGIN_OPTIONS_INVALID',
      `invalid options for storage driver ${name} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      { plugin: name, location: pkg.dir, issues },
    );
  }
  return { options, secretPaths };
}

interface IssueContext {
  readonly name: string;
  readonly file: string;
  readonly optionsPath: string;
  readonly places: ReadonlyMap<string, ConfigLocation>;
  readonly secretPaths: readonly string[];
  readonly legacyMap: Readonly<Record<string, string>>;
  /** option -> the unset `_env:` variable its seed key named */
  readonly unsetVariables: ReadonlyMap<string, string>;
  readonly schema: JsonSchema | undefined;
  /** the config is a Python docker-registry one, where options are written as seed keys */
  readonly seedFormat: boolean;
}

function toIssue(error: ErrorObject, ctx: IssueContext): ConfigIssue {
  const params = error.params as Record<string, unknown>;
  const keys = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') keys.push(String(params['missingProperty']));
  if (error.keyword === 'additionalProperties') keys.push(String(params['additionalProperty']));

  const place = locate(keys, ctx);
  const dotted = keys.join('.');
  const secret = ctx.secretPaths.includes(dotted);
  const got = secret ? '(value hidden)' : describeValue(error.data, keys.at(-1) ?? '');
  // a schema may say in words what it expects, instead of a pattern nobody can read
  const expected = (error.parentSchema as { 'x-expected'?: unknown } | undefined)?.['x-expected'];
  if (typeof expected === 'string' && ['type', 'pattern', 'enum', 'const', 'format', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum'].includes(error.keyword)) {
    return { ...place, message: `must be ${expected}, got ${got}` };
  }
  switch (error.keyword) {
    case 'type':
      return { ...place, message: `must be ${typeWords(params['type'] as string | string[])}, got ${got}` };
    case 'required': {
      const seedKey = Object.entries(ctx.legacyMap).find(([, option]) => option === dotted)?.[0];
      const unset = ctx.unsetVariables.get(dotted);
      if (unset !== undefined) {
        const written = ctx.places.get(dotted) ?? place;
        return { ...written, message: `is required, but ${unsetMessage(unset)}` };
      }
      // a docker-registry config writes the seed key, flat in its flavor section: name that
      if (seedKey && ctx.seedFormat) return { file: ctx.file, path: dottedPath(ctx.optionsPath, seedKey), message: 'is required' };
      return { ...place, message: `is required${seedKey ? ` (in a docker-registry config: ${seedKey})` : ''}` };
    }
    case 'additionalProperties': {
      const parent = error.parentSchema as { properties?: object } | undefined;
      const known = Object.keys(parent?.properties ?? {});
      return { ...place, message: `is not an option of the ${ctx.name} storage driver${didYouMean(keys.at(-1) ?? '', known)}${known.length ? ` (options: ${known.join(', ')})` : ''}` };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
      return { ...place, message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${got}` };
    }
    case 'pattern':
      return { ...place, message: `must match the pattern ${String(params['pattern'])}, got ${got}` };
    default:
      return { ...place, message: `${error.message ?? 'is not valid'}${secret ? '' : `, got ${got}`}` };
  }
}

/** The place in the config of the option at `keys`: where its top-level key was written, plus the rest of the path. */
function locate(keys: readonly string[], ctx: IssueContext): ConfigLocation {
  if (keys.length === 0) return { file: ctx.file, path: ctx.optionsPath };
  const written = ctx.places.get(keys[0]!);
  if (written) return { file: written.file, path: dottedPath(written.path, ...keys.slice(1)) };
  return { file: ctx.file, path: dottedPath(ctx.optionsPath, ...keys) };
}

/** `a.b.c`, leaving out empty parts (a docker-registry config without flavors has its keys at the top) */
function dottedPath(...parts: readonly string[]): string {
  return parts.filter((part) => part !== '').join('.');
}
