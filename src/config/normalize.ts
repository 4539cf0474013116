/**
 * The validated document, whatever its origin, as the StowageConfig the rest of stowage reads: defaults
 * filled in, `plugins.paths` made absolute, `http.addr` taken apart, warnings for accepted-but-ignored
 * distribution sections.
 */
import path from 'node:path';
import { cachesOf } from './caches.js';
import { mirrorOf } from './mirror.js';
import { ENVIRONMENT, STORAGE_SETTINGS } from './env-overrides.js';
import { opsConfigOf } from './operations.js';
import { searchConfigOf } from './search.js';
import type { Origins } from './origins.js';
import { unhonouredSecuritySettings } from './security-settings.js';
import type { AuthConfig, ConfigIssue, ConfigLocation, LegacyValue, LogLevel, RetentionPolicyConfig, StowageConfig, TlsConfig } from './types.js';

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const asMapping = (value: unknown): Mapping => (isMapping(value) ? value : {});

export const DEFAULT_ADDR = '127.0.0.1:5000';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** logrus spellings distribution accepts, onto pino's levels */
const LEVEL_ALIASES: Record<string, LogLevel> = { warning: 'warn', panic: 'fatal' };

/**
 * sections of distribution's config.yml that stowage accepts but does not act on, and why that matters
 * (security settings, `auth` and `http.tls`, are not here: see security-settings.ts)
 */
const IGNORED_WITH_WARNING: ReadonlyArray<readonly [readonly string[], string]> = [
  [['middleware'], 'stowage has no registry/storage middleware'],
  [['validation'], 'stowage does not restrict manifest URLs'],
  [['reporting', 'bugsnag'], 'stowage does not report to bugsnag (unsupported); use reporting.email'],
  [['reporting', 'newrelic'], 'stowage does not report to newrelic (unsupported)'],
  [['compatibility'], 'stowage does not convert schema1 manifests'],
  [['http', 'debug', 'pprof'], 'stowage has no pprof (Go profiling)'],
  [['health', 'file'], 'stowage checks only the storage driver (health.storagedriver)'],
  [['health', 'http'], 'stowage checks only the storage driver (health.storagedriver)'],
  [['health', 'tcp'], 'stowage checks only the storage driver (health.storagedriver)'],
  [['notifications', 'events'], 'stowage sends no references in events'],
  [['log', 'hooks'], 'stowage has no log hooks'],
  [['log', 'fields'], 'stowage adds no static fields to its log lines'],
  [['log', 'reportcaller'], 'stowage does not report the calling function in log lines'],
  [['http', 'draintimeout'], 'on SIGTERM stowage lets requests in flight finish, however long they take'],
  [['http', 'http2'], 'stowage serves HTTP/1.1 only'],
  [['http', 'h2c'], 'stowage serves HTTP/1.1 only'],
  [['storage', 'tag'], 'stowage keeps no tag lookup concurrency setting'],
  [['catalog'], 'stowage pages _catalog by n (at most 1000 a page)'],
];

export interface NormalizeContext {
  readonly cwd: string;
  readonly baseDir: string;
  readonly source: StowageConfig['source'];
  readonly origins: Origins;
  readonly legacy?: Record<string, LegacyValue>;
  /** for a docker-registry file, the flavor's path: its flat keys are the driver's options */
  readonly legacyOptionsPath?: string;
  readonly warnings: readonly ConfigIssue[];
}

/** The one storage driver of a storage section (after validation there is exactly one). */
export function driverKeys(storage: unknown): string[] {
  if (typeof storage === 'string') return [storage];
  return Object.keys(asMapping(storage)).filter((key) => !STORAGE_SETTINGS.has(key));
}

export function normalize(document: Mapping, context: NormalizeContext): StowageConfig {
  const { origins } = context;
  const storageSection = document.storage;
  const driver = driverKeys(storageSection)[0]!;
  const storage = asMapping(storageSection);
  const options = { ...asMapping(storage[driver]) };
  const optionSources: Record<string, ConfigLocation> = {};
  for (const key of Object.keys(options)) optionSources[key] = origins.locate(['storage', driver, key]);

  const purging = asMapping(asMapping(storage.maintenance).uploadpurging);
  const http = asMapping(document.http);
  const addr = typeof http.addr === 'string' ? http.addr : DEFAULT_ADDR;
  const rawLevel = asMapping(document.log).level ?? document.loglevel ?? DEFAULT_LOG_LEVEL;
  const level = LEVEL_ALIASES[rawLevel as string] ?? (rawLevel as LogLevel);

  const pluginPaths = (asMapping(document.plugins).paths as unknown[] | undefined) ?? [];
  const paths = pluginPaths.map((entry, index) => {
    const fromEnvironment = origins.locate(['plugins', 'paths', index]).file === ENVIRONMENT;
    return path.resolve(fromEnvironment ? context.cwd : context.baseDir, entry as string);
  });

  const warnings = [...context.warnings];
  if (http.net === 'unix') warnings.push({ ...origins.locate(['http', 'net']), message: 'accepted but ignored: stowage listens on TCP only (http.addr)' });
  for (const [segments, why] of IGNORED_WITH_WARNING) {
    if (valueAt(document, segments) == null) continue;
    warnings.push({ ...origins.locate(segments), message: `accepted but ignored: ${why}` });
  }
  const caches = cachesOf(document, origins, warnings);
  if (document.redis != null && caches?.caches.blobdescriptor !== 'redis') {
    warnings.push({ ...origins.locate(['redis']), message: 'accepted but ignored: stowage uses redis only for storage.cache.blobdescriptor: redis' });
  }

  return {
    source: context.source,
    baseDir: context.baseDir,
    log: { level },
    http: {
      addr,
      prefix: typeof http.prefix === 'string' ? http.prefix : '',
      headers: headersOf(http.headers),
      listen: listenOf(addr),
      ...(typeof http.host === 'string' ? { host: http.host } : {}),
      ...(typeof http.relativeurls === 'boolean' ? { relativeurls: http.relativeurls } : {}),
      ...(typeof http.secret === 'string' ? { secret: http.secret } : {}),
      ...(typeof http.bodyidletimeout === 'string' ? { bodyidletimeout: http.bodyidletimeout } : {}),
      ...(typeof http.workers === 'number' || http.workers === 'auto' ? { workers: http.workers } : {}),
      ...(typeof http.hashthread === 'boolean' || http.hashthread === 'auto' ? { hashthread: http.hashthread } : {}),
      ...(isMapping(http.tls) ? { tls: tlsOf(http.tls, context.baseDir) } : {}),
    },
    ...(authOf(document.auth, context.baseDir) ?? {}),
    storage: {
      driver,
      options,
      optionsPath: context.legacyOptionsPath ?? `storage.${driver}`,
      ...(context.legacy ? { legacy: context.legacy } : {}),
      optionSources,
      // the schema has checked each entry's shape
      quotas: (storage.quotas as StowageConfig['storage']['quotas'] | undefined) ?? [],
      delete: { enabled: asMapping(storage.delete).enabled === true },
      redirect: { disable: asMapping(storage.redirect).disable === true },
      maintenance: {
        uploadpurging: {
          enabled: purging.enabled !== false,
          age: typeof purging.age === 'string' ? purging.age : '168h',
          interval: typeof purging.interval === 'string' ? purging.interval : '24h',
          dryrun: purging.dryrun === true,
        },
        readonly: { enabled: asMapping(asMapping(storage.maintenance).readonly).enabled === true },
        gc: gcSettingsOf(asMapping(asMapping(storage.maintenance).gc)),
        catalog: { interval: catalogIntervalOf(asMapping(asMapping(storage.maintenance).catalog).interval) },
        // the schema has checked each policy's shape
        retention: { policies: (asMapping(asMapping(storage.maintenance).retention).policies as RetentionPolicyConfig[] | undefined) ?? [] },
      },
    },
    plugins: { paths },
    ops: opsConfigOf(document, context.baseDir),
    ...(caches ?? {}),
    ...(mirrorOf(document) ?? {}),
    search: searchConfigOf(document, { driver, options, ...(context.legacy ? { legacy: context.legacy } : {}) }, context.baseDir, origins, warnings),
    warnings,
    refusals: unhonouredSecuritySettings(document, origins),
  };
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

function tlsOf(tls: Mapping, baseDir: string): TlsConfig {
  return {
    certificate: path.resolve(baseDir, tls.certificate as string),
    key: path.resolve(baseDir, tls.key as string),
    clientcas: strings(tls.clientcas).map((file) => path.resolve(baseDir, file)),
    minimumtls: (tls.minimumtls as TlsConfig['minimumtls'] | undefined) ?? 'tls1.2',
  };
}

/** `{ auth }` when the section configures anything (an empty `auth:` is no authentication) */
function authOf(value: unknown, baseDir: string): { auth: AuthConfig } | undefined {
  if (!isMapping(value) || Object.keys(value).length === 0) return undefined;
  const htpasswd = isMapping(value.htpasswd) ? value.htpasswd : undefined;
  const token = isMapping(value.token) ? value.token : undefined;
  const tokenserver = isMapping(value.tokenserver) ? value.tokenserver : undefined;
  const access = isMapping(value.access) ? value.access : undefined;
  const file = (entry: unknown): string => path.resolve(baseDir, entry as string);
  return {
    auth: {
      ...(htpasswd ? { htpasswd: { realm: htpasswd.realm as string, path: file(htpasswd.path) } } : {}),
      ...(token
        ? {
            token: {
              realm: token.realm as string,
              service: token.service as string,
              issuer: token.issuer as string,
              ...(typeof token.rootcertbundle === 'string' ? { rootcertbundle: file(token.rootcertbundle) } : {}),
              ...(typeof token.jwks === 'string' ? { jwks: /^https?:\/\//.test(token.jwks) ? token.jwks : file(token.jwks) } : {}),
              ...(Array.isArray(token.signingalgorithms) ? { signingalgorithms: strings(token.signingalgorithms) } : {}),
            },
          }
        : {}),
      ...(tokenserver
        ? { tokenserver: { ...(typeof tokenserver.key === 'string' ? { key: file(tokenserver.key) } : {}), expiration: (tokenserver.expiration as string | undefined) ?? '5m' } }
        : {}),
      ...(access
        ? {
            access: {
              groups: Object.fromEntries(Object.entries(asMapping(access.groups)).map(([group, members]) => [group, strings(members)])),
              anonymouspull: strings(access.anonymouspull),
              rules: (Array.isArray(access.rules) ? access.rules : []).map((rule: unknown) => {
                const r = asMapping(rule);
                return { repositories: strings(r.repositories), users: strings(r.users), groups: strings(r.groups), actions: strings(r.actions) as ('pull' | 'push' | 'delete')[] };
              }),
            },
          }
        : {}),
      ...(typeof value.automount === 'boolean' ? { automount: value.automount } : {}),
    },
  };
}

/** the schema has checked it: a duration, or 0 */
const catalogIntervalOf = (value: unknown): string | number => (typeof value === 'string' || value === 0 ? value : '10m');

function gcSettingsOf(gc: Mapping): StowageConfig['storage']['maintenance']['gc'] {
  const duration = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);
  return {
    enabled: gc.enabled === true,
    interval: duration(gc.interval, '24h'),
    graceperiod: duration(gc.graceperiod, '1h'),
    settle: duration(gc.settle, '1m'),
    deleteuntagged: gc.deleteuntagged === true,
    dryrun: gc.dryrun === true,
  };
}

/** distribution writes header values as lists (`X-Content-Type-Options: [nosniff]`) */
function headersOf(value: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(asMapping(value))) headers[name] = Array.isArray(v) ? v.join(', ') : String(v);
  return headers;
}

/** `127.0.0.1:5000`, `[::1]:5000`, `:5000` (no host: every interface, as Go's net.Listen does) */
export function listenOf(addr: string): { host?: string; port: number } {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(addr.slice(colon + 1));
  return host === '' ? { port } : { host, port };
}

function valueAt(document: Mapping, segments: readonly string[]): unknown {
  let node: unknown = document;
  for (const segment of segments) node = isMapping(node) ? node[segment] : undefined;
  return node;
}
