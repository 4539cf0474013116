/**
 * docker-registry's `_env:NAME` and `_env:NAME:default` values. As docker-registry did, the text is split
 * on the first two colons only (so a default may itself hold colons, `_env:DB:sqlite:////tmp/x.db`), and the
 * variable's value, or else the default, is read as YAML: `_env:X:60` is the number 60, `_env:X:[a]` a list,
 * and an unset variable with no default is null (the key counts as absent).
 */
import { looksSecret } from './describe.js';
import { parsePyYamlValue } from './parse-text.js';

export type EnvResolution = { ok: true; value: unknown } | { ok: false; message: string };

const ENV_PREFIX = '_env:';

export function isEnvReference(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENV_PREFIX);
}

export function resolveEnvReference(reference: string, env: NodeJS.ProcessEnv): EnvResolution {
  const rest = reference.slice(ENV_PREFIX.length);
  const colon = rest.indexOf(':');
  const name = colon === -1 ? rest : rest.slice(0, colon);
  const fallback = colon === -1 ? '' : rest.slice(colon + 1);
  const fromEnv = env[name];
  const text = fromEnv ?? fallback;
  const parsed = parsePyYamlValue(text);
  if (parsed.ok) return parsed;
  const whence = fromEnv === undefined ? `the default in ${JSON.stringify(`${ENV_PREFIX}${name}:…`)}` : `environment variable ${name}`;
  const shown = looksSecret(name) ? ' (value hidden)' : '';
  return { ok: false, message: `expected ${whence} to be a YAML value${shown}: ${parsed.reason}` };
}

/**
 * `_env:` references resolved in a value and in the mappings under it. List items are left as written:
 * docker-registry resolved them only in mappings.
 */
export function resolveEnvDeep(
  value: unknown,
  env: NodeJS.ProcessEnv,
  onError: (relativePath: readonly string[], message: string) => void,
  relativePath: readonly string[] = [],
): unknown {
  if (isEnvReference(value)) {
    const resolved = resolveEnvReference(value, env);
    if (resolved.ok) return resolved.value;
    onError(relativePath, resolved.message);
    return null;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = resolveEnvDeep(child, env, onError, [...relativePath, key]);
    return out;
  }
  return value;
}

/** NAME when `value` is `_env:NAME` without a default and NAME is unset: docker-registry read that as absent */
export function unsetVariableOf(value: unknown, env: NodeJS.ProcessEnv): string | undefined {
  if (!isEnvReference(value)) return undefined;
  const rest = value.slice(ENV_PREFIX.length);
  if (rest.includes(':')) return undefined;
  return env[rest] === undefined ? rest : undefined;
}

/** the words every message about an unset `_env:` variable uses */
export function unsetMessage(variable: string): string {
  return `environment variable ${variable} is unset (_env:${variable} has no default)`;
}
