/**
 * distribution's environment overrides: `REGISTRY_<PATH>` with `_` between levels
 * (REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY sets storage.filesystem.rootdirectory). Keys are matched
 * case-insensitively against the keys already present and the schema's, and new keys are lowercased, so
 * driver options (lowercase, no underscores) map one to one. Values are typed as the schema expects at that
 * place; under driver options, where stowage knows no schema, `true`/`false`, numbers that read back
 * unchanged and `[...]`/`{...}` are typed and anything else stays a string.
 */
import { parse as parseYaml } from 'yaml';
import type { Origins } from './origins.js';
import type { ConfigIssue } from './types.js';

export const ENVIRONMENT = '<environment>';
const PREFIX = 'REGISTRY_';
/** distribution reads the config file's path from this one; it is not an override */
const NOT_OVERRIDES = new Set(['REGISTRY_CONFIGURATION_PATH']);

type Mapping = Record<string, unknown>;
interface SchemaNode {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode;
  $ref?: string;
  pattern?: string;
}

const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** storage keys that are not drivers */
export const STORAGE_SETTINGS = new Set(['delete', 'redirect', 'cache', 'maintenance', 'tag', 'quotas']);

export interface OverrideResult {
  readonly issues: ConfigIssue[];
  readonly warnings: ConfigIssue[];
}

/** Lays every REGISTRY_* variable over `document` (mutated), recording each as the origin of what it set. */
export function applyEnvOverrides(document: Mapping, env: NodeJS.ProcessEnv, schema: SchemaNode, origins: Origins): OverrideResult {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const names = Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && name.length > PREFIX.length && !NOT_OVERRIDES.has(name) && env[name] !== undefined)
    .map((name) => ({ name, segments: name.slice(PREFIX.length).split('_') }))
    // shorter paths first, so REGISTRY_STORAGE=s3 lands before REGISTRY_STORAGE_S3_REGION
    .sort((a, b) => a.segments.length - b.segments.length || a.name.localeCompare(b.name));

  for (const { name, segments } of names) {
    const raw = env[name]!;
    const here = { file: ENVIRONMENT, path: name };
    if (segments.some((s) => s === '')) {
      warnings.push({ ...here, message: 'ignored: a REGISTRY_ variable name has no empty parts between underscores' });
      continue;
    }
    const section = segments[0]!.toLowerCase();
    if (!schema.properties?.[section]) {
      warnings.push({ ...here, message: `ignored: stowage's configuration has no "${section}" section` });
      continue;
    }
    if (segments.length === 1 && section === 'storage') {
      selectDriver(document, raw, origins, here);
      continue;
    }
    setAt(document, segments, raw, schema, origins, here, issues);
  }
  return { issues, warnings };
}

/** REGISTRY_STORAGE=<driver>: the driver changes; delete/redirect/maintenance settings stay. */
function selectDriver(document: Mapping, driver: string, origins: Origins, here: { file: string; path: string }): void {
  const current = document.storage;
  const storage: Mapping = {};
  if (isMapping(current)) {
    for (const [key, value] of Object.entries(current)) {
      if (STORAGE_SETTINGS.has(key) || key === driver) storage[key] = value;
    }
  }
  if (!(driver in storage)) {
    storage[driver] = {};
    origins.set(['storage', driver], here);
  }
  document.storage = storage;
}

function setAt(
  document: Mapping,
  segments: readonly string[],
  raw: string,
  rootSchema: SchemaNode,
  origins: Origins,
  here: { file: string; path: string },
  issues: ConfigIssue[],
): void {
  let node: Mapping | unknown[] = document;
  let schema: SchemaNode | undefined = rootSchema;
  const path: (string | number)[] = [];
  let i = 0;
  while (i < segments.length) {
    let key: string | number;
    let used = 1;
    if (Array.isArray(node)) {
      const index = /^\d+$/.test(segments[i]!) ? Number(segments[i]) : NaN;
      if (!Number.isInteger(index) || index > node.length) {
        issues.push({ ...here, message: `expected a list index from 0 to ${node.length} (${node.length} adds an item), got ${JSON.stringify(segments[i])}` });
        return;
      }
      key = index;
      schema = deref(rootSchema, schema?.items);
    } else {
      [key, used] = matchKey(node, segments, i, schema);
      schema = deref(rootSchema, childSchema(schema, key));
    }
    path.push(key);
    i += used;
    const last = i >= segments.length;
    if (last) {
      const value = coerce(raw, schema);
      (node as Record<string | number, unknown>)[key] = value;
      origins.set(path, here);
      return;
    }
    let child = (node as Record<string | number, unknown>)[key];
    if (typeof child === 'string' && path.length === 1 && path[0] === 'storage') {
      // the shorthand `storage: ufile` grows into `storage: {ufile: {}}` to take an option
      child = { [child]: {} };
    } else if (!isMapping(child) && !Array.isArray(child)) {
      child = /^\d+$/.test(segments[i]!) && allowsArray(schema) ? [] : {};
      origins.set(path, here);
    }
    (node as Record<string | number, unknown>)[key] = child;
    node = child as Mapping | unknown[];
  }
}

/** the existing key, else the schema's property, spelled by segments[i..j] joined with `_`, longest first */
function matchKey(node: Mapping, segments: readonly string[], i: number, schema: SchemaNode | undefined): [string, number] {
  const candidates = [...Object.keys(node), ...Object.keys(schema?.properties ?? {})];
  for (let j = segments.length; j > i; j--) {
    const wanted = segments.slice(i, j).join('_');
    const hit = candidates.find((key) => key.toUpperCase() === wanted.toUpperCase());
    if (hit !== undefined) return [hit, j - i];
  }
  return [segments[i]!.toLowerCase(), 1];
}

function childSchema(schema: SchemaNode | undefined, key: string | number): SchemaNode | undefined {
  if (!schema) return undefined;
  const own = schema.properties?.[String(key)];
  if (own) return own;
  return typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
}

function deref(root: SchemaNode, schema: SchemaNode | undefined): SchemaNode | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace(/^#\/\$defs\//, '');
  const defs = (root as { $defs?: Record<string, SchemaNode> }).$defs;
  return { ...defs?.[name], ...schema, $ref: undefined };
}

const typesOf = (schema: SchemaNode | undefined): string[] =>
  schema?.type === undefined ? [] : typeof schema.type === 'string' ? [schema.type] : schema.type;

const allowsArray = (schema: SchemaNode | undefined): boolean => typesOf(schema).includes('array');

/** the variable's text typed as the schema wants it; left a string when it does not fit (validation says so) */
function coerce(raw: string, schema: SchemaNode | undefined): unknown {
  const types = typesOf(schema);
  if (schema?.enum) {
    if (schema.enum.includes(raw)) return raw;
    const asNumber = Number(raw);
    if (raw.trim() !== '' && schema.enum.includes(asNumber)) return asNumber;
    return raw;
  }
  if (types.length === 0) return looseScalar(raw);
  // a number or a word (`http.workers: 4` or `auto`), a boolean or a word (`http.hashthread: true` or `auto`):
  // the number or boolean unless the text is a word the pattern allows
  const numeric = (types.includes('number') || types.includes('integer')) && /^-?\d+(\.\d+)?$/.test(raw);
  const boolean = types.includes('boolean') && /^(true|false)$/i.test(raw);
  const patternRefuses = schema?.pattern !== undefined && !new RegExp(schema.pattern).test(raw);
  if (types.includes('string') && !((numeric || boolean) && patternRefuses)) return raw;
  if (types.includes('boolean') && /^(true|false)$/i.test(raw)) return raw.toLowerCase() === 'true';
  if ((types.includes('number') || types.includes('integer')) && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  if ((types.includes('array') || types.includes('object')) && /^\s*[[{]/.test(raw)) return parseFlow(raw);
  if (types.includes('null') && raw === '') return null;
  return raw;
}

/** typing for values stowage has no schema for (driver options): only what reads back unchanged */
function looseScalar(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?(0|[1-9]\d*)(\.\d+)?$/.test(raw) && String(Number(raw)) === raw) return Number(raw);
  if (/^\s*[[{]/.test(raw)) return parseFlow(raw);
  return raw;
}

function parseFlow(raw: string): unknown {
  try {
    return parseYaml(raw) as unknown;
  } catch {
    return raw;
  }
}
