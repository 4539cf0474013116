/**
 * The Python docker-registry `config.yml`: flavor sections (`common`, `dev`, `prod`, …, picked by
 * SETTINGS_FLAVOR, default `dev`), `_env:` values, flat keys (`storage: ufile`, `storage_path`,
 * `ufile_baseurl`, …). It is translated into stowage's shape; the flat storage keys travel untouched in
 * `storage.legacy` for the plugin's manifest (`legacyOptions`) to map onto its options.
 */
import { describeValue } from './describe.js';
import { resolveEnvDeep, unsetMessage, unsetVariableOf } from './legacy-env.js';
import { translateSeedKeys } from './legacy-seed-keys.js';
import type { Segments } from './origins.js';
import type { ConfigIssue, ConfigLocation, LegacyValue } from './types.js';

/** prefixes of the seed drivers' flat keys (and the S3 driver's, for configs of the era) */
export const LEGACY_KEY_PREFIXES = ['ufile_', 'oss_', 'swift_', 'elliptics_', 's3_', 'boto_', 'gcs_', 'glance_'] as const;

/** the flavor docker-registry used when SETTINGS_FLAVOR is unset */
export const DEFAULT_FLAVOR = 'dev';

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/** `storage_path` and `ufile_*`-style keys; `driver_*` too when the section names `storage: driver` */
export function isLegacyStorageKey(key: string, driver?: string): boolean {
  if (key === 'storage_path') return true;
  if (LEGACY_KEY_PREFIXES.some((prefix) => key.startsWith(prefix))) return true;
  return driver !== undefined && driver !== 'storage' && key.startsWith(`${driver}_`);
}

/** a mapping written like a docker-registry flavor: `storage: <name>` beside flat storage keys */
function looksLikeFlavorSection(value: unknown): boolean {
  if (!isMapping(value) || typeof value.storage !== 'string') return false;
  const driver = value.storage;
  return Object.keys(value).some((key) => isLegacyStorageKey(key, driver));
}

export type LegacyShape = 'flavored' | 'flat';

export interface DetectionContext {
  /** the file was named by DOCKER_REGISTRY_CONFIG */
  readonly viaDockerRegistryConfig: boolean;
  readonly settingsFlavor: string | undefined;
}

/**
 * Whether a parsed document is a docker-registry config, and of which shape. The rule (docs/config.md):
 * a top-level `common` mapping, or a top-level mapping named by SETTINGS_FLAVOR, or a top-level mapping
 * that looks like a flavor, makes it `flavored`; `storage: <string>` beside flat storage keys at the top
 * makes it `flat` (a flavor's content without the flavor); a file named by DOCKER_REGISTRY_CONFIG is
 * always a docker-registry config. Anything else is stowage's own format.
 */
export function detectLegacy(document: unknown, context: DetectionContext): LegacyShape | undefined {
  if (!isMapping(document)) return context.viaDockerRegistryConfig ? 'flavored' : undefined;
  if (isMapping(document.common)) return 'flavored';
  if (context.settingsFlavor && isMapping(document[context.settingsFlavor])) return 'flavored';
  if (looksLikeFlavorSection(document)) return 'flat';
  if (Object.values(document).some(looksLikeFlavorSection)) return 'flavored';
  return context.viaDockerRegistryConfig ? 'flavored' : undefined;
}

export interface LegacyTranslation {
  /** stowage-shaped document (before env overrides and validation) */
  readonly document: Mapping;
  /** where parts of `document` came from in the file */
  readonly origins: ReadonlyArray<readonly [Segments, ConfigLocation]>;
  readonly root: ConfigLocation;
  readonly legacy: Record<string, LegacyValue>;
  readonly flavor: string | undefined;
  readonly issues: ConfigIssue[];
  /** seed keys accepted but not acted upon (legacy-seed-keys.ts), logged by `serve` at startup */
  readonly warnings: ConfigIssue[];
  /** nothing could be read (no such flavor): the issues say why, and nothing else is worth checking */
  readonly fatal: boolean;
}

/** docker-registry (Python `logging`) level names to stowage's */
const LOG_LEVELS: Record<string, string> = { warning: 'warn', critical: 'fatal', notset: 'trace' };

export function translateLegacy(
  document: unknown,
  shape: LegacyShape,
  file: string,
  env: NodeJS.ProcessEnv,
): LegacyTranslation {
  const issues: ConfigIssue[] = [];
  const top: Mapping = isMapping(document) ? document : {};
  const flavor = shape === 'flavored' ? env.SETTINGS_FLAVOR || DEFAULT_FLAVOR : undefined;
  const root: ConfigLocation = { file, path: flavor ?? '' };
  const result = { document: {} as Mapping, origins: [] as [Segments, ConfigLocation][], root, legacy: {}, flavor, issues, warnings: [] as ConfigIssue[], fatal: false };

  if (!isMapping(document)) {
    issues.push({ file, path: '', message: `expected a docker-registry config (a mapping of flavors such as common, dev, prod), got ${describeValue(document, '')}` });
    return { ...result, fatal: true };
  }

  // Keys written in the flavor (including those merged in by `<<: *common`) are cited at `<flavor>.<key>`;
  // keys only in `common` (docker-registry before 0.9 merged it implicitly) at `common.<key>`.
  const section = new Map<string, { value: unknown; path: string }>();
  if (flavor !== undefined) {
    const chosen = top[flavor];
    if (!isMapping(chosen)) {
      const present = Object.keys(top).filter((key) => isMapping(top[key]));
      const why = env.SETTINGS_FLAVOR ? 'SETTINGS_FLAVOR' : `SETTINGS_FLAVOR is unset, so the default "${DEFAULT_FLAVOR}"`;
      issues.push({
        file,
        path: flavor,
        message: `expected a flavor section "${flavor}" (${why}); flavors in this file: ${present.length > 0 ? present.join(', ') : 'none'}`,
      });
      return { ...result, fatal: true };
    }
    if (flavor !== 'common' && isMapping(top.common)) {
      for (const [key, value] of Object.entries(top.common)) section.set(key, { value, path: `common.${key}` });
    }
    for (const [key, value] of Object.entries(chosen)) section.set(key, { value, path: `${flavor}.${key}` });
  } else {
    for (const [key, value] of Object.entries(top)) section.set(key, { value, path: key });
  }

  const resolve = (key: string): { value: unknown; path: string } | undefined => {
    const entry = section.get(key);
    if (!entry) return undefined;
    const value = resolveEnvDeep(entry.value, env, (relative, message) =>
      issues.push({ file, path: [entry.path, ...relative].join('.'), message }),
    );
    return { value, path: entry.path };
  };

  const out = result.document;
  const storage: Mapping = {};
  out.storage = storage;
  const storageEntry = resolve('storage');
  result.origins.push([['storage'], { file, path: storageEntry?.path ?? (flavor ? `${flavor}.storage` : 'storage') }]);
  let driver: string | undefined;
  if (storageEntry && storageEntry.value !== null) {
    if (typeof storageEntry.value === 'string') {
      driver = storageEntry.value;
      storage[driver] = {};
      result.origins.push([['storage', driver], { file, path: storageEntry.path }]);
    } else {
      issues.push({
        file,
        path: storageEntry.path,
        message: `expected the name of a storage driver (e.g. storage: ufile), got ${describeValue(storageEntry.value, 'storage')}`,
      });
    }
  }
  const unsetDriverVariable = unsetVariableOf(section.get('storage')?.value, env);
  if (storageEntry && unsetDriverVariable !== undefined) {
    issues.push({ file, path: storageEntry.path, message: `expected the name of a storage driver, but ${unsetMessage(unsetDriverVariable)}` });
  }

  const redirect = resolve('storage_redirect');
  // docker-registry did not redirect unless storage_redirect was true
  let disable: unknown = true;
  if (redirect && redirect.value !== null && redirect.value !== '') {
    disable = typeof redirect.value === 'boolean' ? !redirect.value : redirect.value;
    result.origins.push([['storage', 'redirect', 'disable'], { file, path: redirect.path }]);
  }
  storage.redirect = { disable };

  const loglevel = resolve('loglevel');
  if (loglevel && loglevel.value !== null && loglevel.value !== '') {
    const level = typeof loglevel.value === 'string' ? loglevel.value.toLowerCase() : loglevel.value;
    out.log = { level: typeof level === 'string' ? (LOG_LEVELS[level] ?? level) : level };
    result.origins.push([['log', 'level'], { file, path: loglevel.path }]);
  }

  // the seeds' redis caches: `cache` is distribution's blob descriptor cache, `cache_lru` stowage's storage.cache.lru
  const cache = redisSectionOf(resolve('cache')?.value);
  const cacheLru = redisSectionOf(resolve('cache_lru')?.value);
  if (cache || cacheLru) {
    storage.cache = { ...(cache ? { blobdescriptor: 'redis' } : {}), ...(cacheLru ? { lru: cacheLru } : {}) };
    if (cache) {
      out.redis = cache;
      result.origins.push([['redis'], { file, path: section.get('cache')!.path }]);
      result.origins.push([['storage', 'cache', 'blobdescriptor'], { file, path: section.get('cache')!.path }]);
    }
    if (cacheLru) result.origins.push([['storage', 'cache', 'lru'], { file, path: section.get('cache_lru')!.path }]);
  }

  const legacy: Record<string, LegacyValue> = {};
  for (const key of section.keys()) {
    if (!isLegacyStorageKey(key, driver)) continue;
    const entry = resolve(key);
    if (entry && entry.value !== null) legacy[key] = entry;
    const unsetVariable = unsetVariableOf(section.get(key)?.value, env);
    if (entry && entry.value === null && unsetVariable !== undefined) legacy[key] = { ...entry, unsetVariable };
  }
  const seed = translateSeedKeys(section.keys(), resolve, (key) => isLegacyStorageKey(key, driver), file);
  if (seed.reporting) out.reporting = seed.reporting;
  if (seed.proxy) out.proxy = seed.proxy;
  if (seed.search) out.search = seed.search;
  for (const [segments, path] of seed.origins) result.origins.push([[...segments], { file, path }]);
  issues.push(...seed.issues);
  return { ...result, legacy, warnings: seed.warnings };
}

/**
 * A seed's `cache` / `cache_lru` (host, port, db, password; values from `_env:` arrive as strings) as a
 * stowage redis endpoint; undefined when no host is set (docker-registry then ran without that cache).
 */
function redisSectionOf(value: unknown): Mapping | undefined {
  if (!isMapping(value) || typeof value.host !== 'string' || value.host === '') return undefined;
  const port = value.port === null || value.port === undefined || value.port === '' ? 6379 : Number(value.port);
  const db = value.db === null || value.db === undefined || value.db === '' ? 0 : Number(value.db);
  const host = value.host.includes(':') ? `[${value.host}]` : value.host;
  return {
    addr: `${host}:${Number.isInteger(port) ? port : String(value.port)}`,
    db: Number.isInteger(db) ? db : value.db,
    ...(typeof value.password === 'string' && value.password !== '' ? { password: value.password } : {}),
  };
}
