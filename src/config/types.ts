import type { OpsConfig } from './operations.js';
import type { CacheConfig } from './caches.js';
import type { MirrorConfig } from './mirror.js';
import type { SearchConfig } from './search.js';

/** The configuration after discovery, format translation and env overrides: what the rest of stowage reads. */

import type { AccessConfig } from '../auth/access.js';

/** A place in a config file, for error messages: `file` plus a dotted path such as `storage.ufile.baseurl`. */
export interface ConfigLocation {
  /** absolute path of the file, or `<defaults>` / `<environment>` */
  readonly file: string;
  /** dotted path inside it; '' for the whole document */
  readonly path: string;
}

export interface ConfigIssue extends ConfigLocation {
  /** what was expected, in words a user can act on */
  readonly message: string;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface StorageConfig {
  /** the plugin name as written (`filesystem`, `ufile`, `@acme/stowage-driver-x`) */
  readonly driver: string;
  /** the driver's options as written (not yet validated: the plugin's own schema does that) */
  readonly options: Readonly<Record<string, unknown>>;
  /** where the options sit in the file, e.g. `storage.ufile`; errors about option `x` cite `${optionsPath}.x` */
  readonly optionsPath: string;
  /**
   * Flat seed keys from a Python docker-registry config (`ufile_baseurl`, `storage_path`, …) with the path
   * each came from (e.g. `prod.ufile_baseurl`); the plugin's manifest `legacyOptions` maps them onto options.
   * A key written as `_env:NAME` whose variable is unset (and has no default) counts as absent, as in
   * docker-registry; it is kept with `unsetVariable: NAME` so that a "required" error can name the variable.
   */
  readonly legacy?: Readonly<Record<string, LegacyValue>>;
  /**
   * Where each top-level option in `options` was written (the file and path, or `<environment>` and the
   * variable name), so that an error about option `x` can name the place the operator must edit.
   */
  readonly optionSources?: Readonly<Record<string, ConfigLocation>>;
  /** byte quotas per namespace (stowage's): `limit` in bytes or with a unit (`10GiB`) */
  readonly quotas: readonly { readonly namespace: string; readonly limit: number | string }[];
  readonly delete: { readonly enabled: boolean };
  readonly redirect: { readonly disable: boolean };
  readonly maintenance: {
    readonly uploadpurging: { readonly enabled: boolean; readonly age: string; readonly interval: string; readonly dryrun: boolean };
    readonly readonly: { readonly enabled: boolean };
    /** online garbage collection (stowage's; distribution has only the offline command) */
    readonly gc: {
      readonly enabled: boolean;
      readonly interval: string;
      readonly graceperiod: string;
      readonly settle: string;
      readonly deleteuntagged: boolean;
      readonly dryrun: boolean;
    };
    /** how often `serve` reconciles the catalog index with the repository tree (stowage's; `0` turns it off) */
    readonly catalog: { readonly interval: string | number };
    /** retention policies, applied by `stowage retention` and before each online garbage collection */
    readonly retention: { readonly policies: readonly RetentionPolicyConfig[] };
  };
}

/** One of storage.maintenance.retention.policies (see src/registry/gc/retention.ts). */
export interface RetentionPolicyConfig {
  readonly repositories: readonly string[];
  readonly keeplastpushed?: number;
  readonly keeptags?: readonly string[];
  readonly keeppulledwithin?: string;
  readonly deleteuntaggedolderthan?: string;
}

export interface HttpConfig {
  /** `host:port` */
  readonly addr: string;
  readonly prefix: string;
  /** extra response headers */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * `addr` taken apart for `server.listen`: `host` is undefined when the address names no host
   * (`:5000`), which means every interface, as distribution does.
   */
  readonly listen?: { readonly host?: string; readonly port: number };
  /** distribution's `http.host`: the externally reachable base URL, for absolute Location headers */
  readonly host?: string;
  /** distribution's `http.relativeurls`: relative Location headers */
  readonly relativeurls?: boolean;
  /** distribution's `http.secret`, passed on for whatever signs upload state; never log it */
  readonly secret?: string;
  /**
   * `http.workers` (stowage's): how many processes serve the API, each a node:cluster worker running the same
   * server under a supervising primary; `auto` is one per CPU. Absent: 1, this process alone.
   */
  readonly workers?: number | 'auto';
  /**
   * `http.hashthread` (stowage's): hash upload bodies on one worker thread instead of the request loop;
   * `auto` (absent): when the machine has more CPUs than processes serving (src/registry/hash-thread-choice.ts)
   */
  readonly hashthread?: boolean | 'auto';
  /** `http.bodyidletimeout` (stowage's): a Go duration; a request body idle this long is cut (default 60s) */
  readonly bodyidletimeout?: string;
  /** distribution's `http.tls`: serve HTTPS; file paths absolute */
  readonly tls?: TlsConfig;
}

export interface TlsConfig {
  readonly certificate: string;
  readonly key: string;
  /** CA bundles client certificates must chain to (mutual TLS); empty: no client certificate asked */
  readonly clientcas: readonly string[];
  /** `tls1.0` .. `tls1.3`; distribution's default is tls1.2 */
  readonly minimumtls: 'tls1.0' | 'tls1.1' | 'tls1.2' | 'tls1.3';
}

/** distribution's `auth` section plus stowage's own keys (tokenserver, access, automount); file paths absolute */
export interface AuthConfig {
  readonly htpasswd?: { readonly realm: string; readonly path: string };
  readonly token?: {
    readonly realm: string;
    readonly service: string;
    readonly issuer: string;
    readonly rootcertbundle?: string;
    /** a JWKS file (absolute) or an http(s) URL */
    readonly jwks?: string;
    readonly signingalgorithms?: readonly string[];
  };
  /** the built-in token issuer, served at the path of `token.realm` */
  readonly tokenserver?: { readonly key?: string; readonly expiration: string };
  readonly access?: AccessConfig;
  /** mount without `from`; default false when authentication is on */
  readonly automount?: boolean;
}

export interface StowageConfig {
  readonly source: {
    /** absolute path of the file read, undefined when running on the embedded defaults */
    readonly file?: string;
    readonly format: 'stowage' | 'docker-registry' | 'defaults';
    /** the docker-registry flavor picked (SETTINGS_FLAVOR) */
    readonly flavor?: string;
  };
  /** folder that relative paths in the config are resolved against */
  readonly baseDir: string;
  readonly log: { readonly level: LogLevel };
  readonly http: HttpConfig;
  /** absent: no authentication, every request admitted */
  readonly auth?: AuthConfig;
  readonly storage: StorageConfig;
  /** absolute folders searched for plugins after the built-in ones */
  readonly plugins: { readonly paths: readonly string[] };
  /** health, metrics, access log, notifications, CORS (src/config/operations.ts); absent: all off */
  readonly ops?: OpsConfig;
  /** storage.cache (+ redis): the registry's caches (src/registry/cache); absent: none */
  readonly caches?: CacheConfig;
  /** proxy: pull-through mirroring from upstream registries (src/registry/mirror); absent: none */
  readonly mirror?: MirrorConfig;
  /** search: where the search index lives (src/config/search.ts); absent: in memory */
  readonly search?: SearchConfig;
  /** things accepted but not acted upon (distribution sections stowage does not implement, unknown env variables) */
  readonly warnings?: readonly ConfigIssue[];
  /**
   * security settings present that stowage does not implement (src/config/security-settings.ts): `serve`
   * and `config check` refuse such a configuration, naming each key
   */
  readonly refusals?: readonly ConfigIssue[];
}

/** a flat docker-registry storage key: its value, where it was written, and the unset `_env:` variable behind it */
export interface LegacyValue {
  readonly value: unknown;
  readonly path: string;
  readonly unsetVariable?: string;
}
