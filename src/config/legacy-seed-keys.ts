/**
 * The docker-registry (seed) keys beyond storage and logging: which stowage honours and how they map onto
 * stowage's sections, and which it does not implement yet. None is silently ignored: a key that is set
 * (after `_env:` resolution) either becomes part of the translated document or yields a warning naming it,
 * which `serve` logs at startup and `config check` prints. README.md has the same table for operators.
 */
import { sqlalchemyDatabase } from './search.js';
import type { ConfigIssue } from './types.js';

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

/** a seed key stowage accepts but does not act on, and why */
export const SEED_KEYS_NOT_IMPLEMENTED: Readonly<Record<string, string>> = {
  standalone: 'stowage never queries an index (it is always standalone)',
  index_endpoint: 'stowage never queries an index',
  disable_token_auth: 'stowage has no index token auth; use auth.htpasswd or auth.token',
  privileged_key: 'stowage has no index token auth; use auth.token',
  cors: 'use http.cors in a stowage config (the seed CORS keys are not translated)',
  debug: 'use http.debug in a stowage config',
  bugsnag: 'stowage does not report to bugsnag (unsupported); use email_exceptions',
};

/** keys read elsewhere (legacy.ts) or that carry no behaviour */
const SEED_KEYS_HANDLED = new Set(['storage', 'storage_redirect', 'loglevel', 'issue', 'email_exceptions', 'mirroring', 'cache', 'cache_lru']);
/** seed keys translated here rather than in legacy.ts */
const SEED_KEYS_TRANSLATED = new Set(['email_exceptions', 'mirroring']);

/** `email_exceptions` (the seed's names) onto `reporting.email` (stowage's) */
const EMAIL_KEYS: Readonly<Record<string, string>> = {
  smtp_host: 'host',
  smtp_port: 'port',
  smtp_login: 'username',
  smtp_password: 'password',
  smtp_secure: 'secure',
  from_addr: 'from',
  to_addr: 'to',
};

export interface SeedKeyTranslation {
  /** `reporting` section for the translated document, when the seed config sets one */
  readonly reporting?: Mapping;
  /** `proxy` section (distribution's one root-namespace upstream), from the seed's `mirroring` */
  readonly proxy?: Mapping;
  /** `search` section, from `search_backend: sqlalchemy` and `sqlalchemy_index_database` */
  readonly search?: Mapping;
  /** where each translated key came from */
  readonly origins: ReadonlyArray<readonly [readonly string[], string]>;
  readonly warnings: ConfigIssue[];
  readonly issues: ConfigIssue[];
}

/**
 * `resolve(key)` gives the `_env:`-resolved value of a flavor key and its path; `isStorageKey` tells the
 * driver's flat keys apart (legacy.ts hands those to the plugin).
 */
export function translateSeedKeys(
  keys: Iterable<string>,
  resolve: (key: string) => { value: unknown; path: string } | undefined,
  isStorageKey: (key: string) => boolean,
  file: string,
): SeedKeyTranslation {
  const warnings: ConfigIssue[] = [];
  const issues: ConfigIssue[] = [];
  const origins: [string[], string][] = [];
  let reporting: Mapping | undefined;
  let proxy: Mapping | undefined;
  let search: Mapping | undefined;
  for (const key of keys) {
    if (isStorageKey(key) || (SEED_KEYS_HANDLED.has(key) && !SEED_KEYS_TRANSLATED.has(key))) continue;
    const entry = resolve(key);
    if (!entry || !isSwitchedOn(key, entry.value)) continue;
    if (key === 'mirroring') {
      const mirroring = translateMirroring(entry.value, entry.path, file);
      proxy = mirroring.proxy;
      origins.push(...mirroring.origins);
      warnings.push(...mirroring.warnings);
      issues.push(...mirroring.issues);
      continue;
    }
    if (key === 'email_exceptions') {
      if (!isMapping(entry.value)) {
        issues.push({ file, path: entry.path, message: 'expected a mapping (smtp_host, smtp_port, smtp_login, smtp_password, smtp_secure, from_addr, to_addr)' });
        continue;
      }
      const email: Mapping = {};
      for (const [seedName, value] of Object.entries(entry.value)) {
        const name = EMAIL_KEYS[seedName];
        if (name === undefined) {
          warnings.push({ file, path: `${entry.path}.${seedName}`, message: 'accepted but ignored: not an email_exceptions key stowage knows' });
          continue;
        }
        if (isUnset(value)) continue;
        email[name] = value;
        origins.push([['reporting', 'email', name], `${entry.path}.${seedName}`]);
      }
      // docker-registry mailed only when smtp_host was set (the defaults fill in the rest)
      if (email.host !== undefined) {
        reporting = { ...reporting, email };
        origins.push([['reporting', 'email'], entry.path]);
      }
      continue;
    }
    if (key === 'search_backend') {
      const translated = searchOf(entry.value, resolve('sqlalchemy_index_database'), entry.path, file);
      if ('issue' in translated) issues.push(translated.issue);
      else {
        search = translated.search;
        origins.push([['search'], translated.from]);
        for (const name of Object.keys(translated.search)) origins.push([['search', name], translated.from]);
      }
      continue;
    }
    const why = SEED_KEYS_NOT_IMPLEMENTED[key] ?? 'not a key stowage knows';
    warnings.push({ file, path: entry.path, message: `accepted but ignored: ${why}` });
  }
  return { ...(reporting ? { reporting } : {}), ...(proxy ? { proxy } : {}), ...(search ? { search } : {}), origins, warnings, issues };
}

/**
 * The seed's `mirroring` (a whole-registry mirror of `source`) is distribution's root-namespace `proxy`:
 * `source` -> `remoteurl`, `tags_cache_ttl` (seconds) -> `ttl`. `source_index` named the v1 index the mirror
 * asked for v1 image lists and index tokens; stowage speaks v2 only and answers search from its own index,
 * so it is accepted and reported as unused.
 */
function translateMirroring(
  value: unknown,
  path: string,
  file: string,
): { proxy?: Mapping; origins: [string[], string][]; warnings: ConfigIssue[]; issues: ConfigIssue[] } {
  const origins: [string[], string][] = [];
  const warnings: ConfigIssue[] = [];
  const issues: ConfigIssue[] = [];
  if (!isMapping(value)) {
    issues.push({ file, path, message: 'expected a mapping (source, source_index, tags_cache_ttl)' });
    return { origins, warnings, issues };
  }
  const proxy: Mapping = {};
  // the section first: an origin set later for a part of it stays (Origins.set replaces what lies under it)
  origins.push([['proxy'], path]);
  for (const [seedName, setting] of Object.entries(value)) {
    if (isUnset(setting)) continue;
    const at = `${path}.${seedName}`;
    if (seedName === 'source') {
      proxy.remoteurl = setting;
      origins.push([['proxy', 'remoteurl'], at]);
    } else if (seedName === 'tags_cache_ttl') {
      const seconds = typeof setting === 'string' && /^\d+(\.\d+)?$/.test(setting.trim()) ? Number(setting) : setting;
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
        issues.push({ file, path: at, message: 'expected a number of seconds, e.g. 172800 (48 hours)' });
        continue;
      }
      proxy.ttl = `${seconds}s`;
      origins.push([['proxy', 'ttl'], at]);
    } else if (seedName === 'source_index') {
      warnings.push({ file, path: at, message: 'accepted but unused: it named the v1 index docker-registry asked for image lists and tokens; stowage mirrors over the v2 API only and answers search from its own index' });
    } else {
      warnings.push({ file, path: at, message: 'accepted but ignored: not a mirroring key stowage knows (source, source_index, tags_cache_ttl)' });
    }
  }
  return { proxy, origins, warnings, issues };
}

/**
 * `search_backend: sqlalchemy` (docker-registry's only backend) with its `sqlalchemy_index_database` URL as
 * stowage's `search` section; without a URL, stowage's default file. Another backend, or a database stowage
 * cannot use (mysql://, …), is an error: the operator asked for search and would silently get none.
 */
function searchOf(
  backend: unknown,
  database: { value: unknown; path: string } | undefined,
  backendPath: string,
  file: string,
): { search: Mapping; from: string } | { issue: ConfigIssue } {
  if (backend !== 'sqlalchemy') {
    return { issue: { file, path: backendPath, message: `expected "sqlalchemy" (the only search backend), got ${JSON.stringify(backend)}` } };
  }
  if (database === undefined || isUnset(database.value)) return { search: { backend: 'sqlite' }, from: backendPath };
  if (typeof database.value !== 'string') return { issue: { file, path: database.path, message: 'expected a database URL such as sqlite:////var/lib/stowage/search.sqlite or postgresql://host/database (with user and password before the host)' } };
  const translated = sqlalchemyDatabase(database.value);
  if ('error' in translated) return { issue: { file, path: database.path, message: translated.error } };
  return { search: translated.search, from: database.path };
}

/**
 * docker-registry acted on these sections only when one key was set (its sample config gives defaults to the
 * others, e.g. `cache.db: _env:CACHE_REDIS_DB:0`), so only then do they count as written
 */
const SWITCHED_BY: Readonly<Record<string, string>> = {
  email_exceptions: 'smtp_host',
  cache: 'host',
  cache_lru: 'host',
  mirroring: 'source',
  cors: 'origins',
};

function isSwitchedOn(key: string, value: unknown): boolean {
  if (isUnset(value)) return false;
  // search_backend selects; the database path alone (it has a default in the sample) does nothing
  if (key === 'sqlalchemy_index_database') return false;
  if (key === 'debug') return value === true;
  const switchKey = SWITCHED_BY[key];
  if (switchKey !== undefined && isMapping(value)) return !isUnset(value[switchKey]);
  return true;
}

/** null, '' and a mapping of nothing but unset values count as not written (docker-registry's `_env:X` unset) */
function isUnset(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (isMapping(value)) return Object.values(value).every(isUnset);
  return false;
}
