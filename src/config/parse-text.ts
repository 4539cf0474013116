/**
 * Config text to plain values. YAML goes through the `yaml` package (merge keys on, so docker-registry's
 * `<<: *common` works); every syntax error becomes an issue with its line and column. Error messages never
 * quote the source line: it may hold a secret.
 */
import { LineCounter, parseDocument, type ScalarTag } from 'yaml';
import type { ConfigIssue } from './types.js';

export type ParseResult = { ok: true; value: unknown } | { ok: false; issues: ConfigIssue[] };

/**
 * PyYAML (YAML 1.1) booleans. docker-registry configs were written for PyYAML, where `yes`/`no`/`on`/`off`
 * are booleans; the rest of YAML 1.1's oddities (sexagesimal numbers, `y`/`n`) are left out on purpose.
 */
const pyYamlBool: ScalarTag = {
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  test: /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE)$/,
  resolve: (source: string) => /^(?:yes|on|true)$/i.test(source),
};

export interface YamlReading {
  /** false for docker-registry files: PyYAML let a later duplicate key win */
  readonly uniqueKeys: boolean;
  /** true for docker-registry files, written for PyYAML */
  readonly pyBooleans: boolean;
}

export const STOWAGE_READING: YamlReading = { uniqueKeys: true, pyBooleans: false };
export const DOCKER_REGISTRY_READING: YamlReading = { uniqueKeys: false, pyBooleans: true };

export function parseYamlText(text: string, file: string, reading: YamlReading = STOWAGE_READING): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    merge: true,
    prettyErrors: false,
    lineCounter,
    uniqueKeys: reading.uniqueKeys,
    ...(reading.pyBooleans ? { customTags: (tags) => [pyYamlBool, ...tags] } : {}),
  });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((err) => {
        const at = lineCounter.linePos(err.pos[0]);
        return { file, path: '', message: `YAML syntax error at ${at.line}:${at.col}: ${firstLine(err.message)}` };
      }),
    };
  }
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: 1000 }) ?? null };
  } catch (err) {
    return { ok: false, issues: [{ file, path: '', message: `YAML error: ${firstLine((err as Error).message)}` }] };
  }
}

/** A YAML scalar given outside a file (an `_env:` default or an environment variable's value), read as PyYAML would. */
export function parsePyYamlValue(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const doc = parseDocument(text, { merge: true, prettyErrors: false, customTags: (tags) => [pyYamlBool, ...tags] });
  if (doc.errors.length > 0) return { ok: false, reason: firstLine(doc.errors[0]!.message) };
  return { ok: true, value: doc.toJS() ?? null };
}

export function parseJsonText(text: string, file: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // JSON.parse's message quotes the text; the YAML parser (JSON is YAML) gives a position instead.
    const located = parseYamlText(text, file);
    if (!located.ok) {
      return { ok: false, issues: located.issues.map((i) => ({ ...i, message: i.message.replace('YAML', 'JSON') })) };
    }
    return { ok: false, issues: [{ file, path: '', message: 'JSON syntax error (check commas, quotes and comments)' }] };
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
