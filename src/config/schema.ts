/**
 * Validation of stowage's own sections against schemas/config.schema.json (draft 2020-12). Every ajv
 * error becomes a ConfigIssue that says what was expected, in the operator's words, at the place (file and
 * path) where the value was written. Driver options are not looked into: the plugin loader validates them
 * against the plugin's own schema.
 */
import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { describeValue, typeWords } from './describe.js';
import type { Origins, Segments } from './origins.js';
import { didYouMean } from './suggest.js';
import type { ConfigIssue } from './types.js';

/** schemas/ sits at the package root, two levels above both src/config and dist/config */
export const CONFIG_SCHEMA_URL = new URL('../../schemas/config.schema.json', import.meta.url);

let compiled: ValidateFunction | undefined;

/** The schema as JSON, for tools (`config check`, editors) that want it. */
export function configSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv2020.default({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true });
    ajv.addKeyword('x-expected');
    compiled = ajv.compile(configSchema());
  }
  return compiled;
}

/** Issues for everything wrong in `document`, each located through `origins`. */
export function validateDocument(document: unknown, origins: Origins): ConfigIssue[] {
  const validate = validator();
  if (validate(document)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = toIssue(error, document, origins);
    if (!issue) continue;
    const key = `${issue.file}\u0000${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function toIssue(error: ErrorObject, document: unknown, origins: Origins): ConfigIssue | undefined {
  // a key's own pattern error comes again, better placed, as the `propertyNames` error
  if (error.keyword !== 'propertyNames' && (error as { propertyName?: string }).propertyName !== undefined) return undefined;
  const segments = pointerToSegments(error.instancePath, document);
  const keyName = String(segments.at(-1) ?? '');
  const expected = (error.parentSchema as { 'x-expected'?: string } | undefined)?.['x-expected'];
  const got = describeValue(error.data, keyName);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return at(origins, segments, `expected ${expected ?? typeWords(params.type as string | string[])}, got ${got}`);
    case 'pattern':
    case 'enum':
    case 'const':
    case 'minLength':
      return at(origins, segments, `expected ${expected ?? enumWords(error)}, got ${got}`);
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      return at(origins, [...segments, name], `unknown key${didYouMean(name, known)}; expected one of: ${known.join(', ')}`);
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      return at(origins, [...segments, name], `expected ${expectedOfPropertyNames(error) ?? 'a valid key'}, got ${JSON.stringify(name)}`);
    }
    case 'required':
      return at(origins, [...segments, String(params.missingProperty)], 'expected a value (required)');
    case 'minimum':
    case 'maximum':
      if (expected) return at(origins, segments, `expected ${expected}, got ${got}`);
      return at(origins, segments, `${error.message ?? 'is invalid'}, got ${got}`);
    default:
      return at(origins, segments, `${error.message ?? 'is invalid'}, got ${got}`);
  }
}

function at(origins: Origins, segments: Segments, message: string): ConfigIssue {
  return { ...origins.locate(segments), message };
}

function enumWords(error: ErrorObject): string {
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  if (allowed) return `one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  return (error.message ?? 'a valid value').replace(/^must (be |match )?/, '');
}

function expectedOfPropertyNames(error: ErrorObject): string | undefined {
  const names = (error.parentSchema as { propertyNames?: { 'x-expected'?: string } } | undefined)?.propertyNames;
  return names?.['x-expected'];
}

/** `/plugins/paths/0` to `['plugins', 'paths', 0]`, numbers only where the data is a list */
function pointerToSegments(pointer: string, document: unknown): (string | number)[] {
  if (pointer === '') return [];
  const segments: (string | number)[] = [];
  let node: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(token);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(token);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[token] : undefined;
    }
  }
  return segments;
}
