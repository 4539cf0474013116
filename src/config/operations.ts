/**
 * The operator-facing sections (distribution's `http.debug`, `health`, `notifications`, `log.formatter`,
 * `log.accesslog`, plus stowage's `http.cors` and `http.trustedproxies`) read from the validated document
 * into the form src/ops uses: durations in milliseconds, defaults filled in, paths absolute.
 */
import path from 'node:path';
import { parseDurationMs } from '../registry/duration.js';
import { emailReportConfigOf, type EmailReportConfig } from './reporting.js';
import { listenOf } from './normalize.js';

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);
const asMapping = (value: unknown): Mapping => (isMapping(value) ? value : {});
const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
const duration = (value: unknown, fallback: string): number => parseDurationMs(typeof value === 'string' ? value : fallback);

export interface DebugServerConfig {
  /** `host:port` of the debug server (distribution's `http.debug.addr`) */
  readonly addr: string;
  readonly listen: { readonly host?: string; readonly port: number };
  readonly prometheus: { readonly enabled: boolean; readonly path: string };
}

export interface CorsConfig {
  /** allowed `Origin` values, exactly as browsers send them (`https://ui.example.com`); `*` allows any */
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  /** request headers a page may send (answered in `Access-Control-Allow-Headers`) */
  readonly headers: readonly string[];
  /** response headers a page may read (`Access-Control-Expose-Headers`) */
  readonly exposeheaders: readonly string[];
  readonly credentials: boolean;
  /** how long a browser may cache a preflight answer */
  readonly maxageSeconds: number;
}

export interface NotificationEndpointConfig {
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, readonly string[]>>;
  readonly timeoutMs: number;
  /** failures in a row before the endpoint waits `backoffMs` between attempts */
  readonly threshold: number;
  readonly backoffMs: number;
  /** media types whose events are not sent (`ignoredmediatypes` and `ignore.mediatypes` together) */
  readonly ignoredMediaTypes: readonly string[];
  readonly ignoredActions: readonly string[];
  readonly disabled: boolean;
}

export interface NotificationsConfig {
  readonly endpoints: readonly NotificationEndpointConfig[];
  /** the folder holding each endpoint's queue of unsent events (a sub-folder per endpoint name) */
  readonly queuedir: string;
  /** events kept per endpoint at most; beyond it new events are dropped (and logged, and counted) */
  readonly queuelimit: number;
  /**
   * not a config key: queue folders no running process owns (a worker's of a larger `http.workers`), which
   * this process drains into its own queues at start; set by `stowage serve` (src/cli/workers.ts)
   */
  readonly adoptfrom?: readonly string[];
}

export interface OpsConfig {
  readonly log: { readonly formatter: 'json' | 'text'; readonly accesslog: { readonly disabled: boolean } };
  readonly http: {
    readonly debug?: DebugServerConfig;
    readonly cors?: CorsConfig;
    /** addresses (or CIDR blocks) of reverse proxies whose `X-Forwarded-For` is believed */
    readonly trustedproxies: readonly string[];
  };
  readonly health: { readonly storagedriver: { readonly enabled: boolean; readonly intervalMs: number; readonly threshold: number } };
  readonly notifications: NotificationsConfig;
  /** `reporting.email`: a mail per unexpected server error */
  readonly errorMail?: EmailReportConfig;
}

export const DEFAULT_CORS_METHODS = ['GET', 'HEAD'];
export const DEFAULT_CORS_HEADERS = ['Accept', 'Authorization', 'Content-Type', 'Range'];
/** what an OCI client in a page needs to read: digests, upload locations and ranges, paging links */
export const DEFAULT_CORS_EXPOSE_HEADERS = [
  'Content-Length',
  'Content-Range',
  'Docker-Content-Digest',
  'Docker-Distribution-API-Version',
  'Docker-Upload-UUID',
  'Link',
  'Location',
  'OCI-Subject',
  'Range',
  'X-Request-Id',
];
export const DEFAULT_QUEUE_LIMIT = 10_000;
export const DEFAULT_QUEUE_DIR = path.join('data', 'notifications');

/** The ops settings of a validated document; `baseDir` resolves a relative `notifications.queuedir`. */
export function opsConfigOf(document: Mapping, baseDir: string): OpsConfig {
  const log = asMapping(document.log);
  const http = asMapping(document.http);
  const debug = isMapping(http.debug) && typeof http.debug.addr === 'string' ? http.debug : undefined;
  const prometheus = asMapping(debug?.prometheus);
  const cors = isMapping(http.cors) ? http.cors : undefined;
  const storagedriver = asMapping(asMapping(document.health).storagedriver);
  const notifications = asMapping(document.notifications);
  const errorMail = emailReportConfigOf(document);
  return {
    log: { formatter: log.formatter === 'text' ? 'text' : 'json', accesslog: { disabled: asMapping(log.accesslog).disabled === true } },
    http: {
      ...(debug
        ? {
            debug: {
              addr: debug.addr as string,
              listen: listenOf(debug.addr as string),
              prometheus: { enabled: prometheus.enabled === true, path: typeof prometheus.path === 'string' ? prometheus.path : '/metrics' },
            },
          }
        : {}),
      ...(cors
        ? {
            cors: {
              origins: strings(cors.origins),
              methods: cors.methods === undefined ? DEFAULT_CORS_METHODS : strings(cors.methods).map((m) => m.toUpperCase()),
              headers: cors.headers === undefined ? DEFAULT_CORS_HEADERS : strings(cors.headers),
              exposeheaders: cors.exposeheaders === undefined ? DEFAULT_CORS_EXPOSE_HEADERS : strings(cors.exposeheaders),
              credentials: cors.credentials === true,
              maxageSeconds: Math.round(duration(cors.maxage, '10m') / 1000),
            },
          }
        : {}),
      trustedproxies: strings(http.trustedproxies),
    },
    health: {
      storagedriver: {
        enabled: storagedriver.enabled === true,
        intervalMs: duration(storagedriver.interval, '10s'),
        threshold: typeof storagedriver.threshold === 'number' ? storagedriver.threshold : 1,
      },
    },
    notifications: {
      endpoints: (Array.isArray(notifications.endpoints) ? notifications.endpoints : []).map((raw) => endpointOf(asMapping(raw))),
      queuedir: path.resolve(baseDir, typeof notifications.queuedir === 'string' ? notifications.queuedir : DEFAULT_QUEUE_DIR),
      queuelimit: typeof notifications.queuelimit === 'number' ? notifications.queuelimit : DEFAULT_QUEUE_LIMIT,
    },
    ...(errorMail ? { errorMail } : {}),
  };
}

/** Defaults are distribution's (configuration.go / notifications docs): timeout 1s, threshold 10, backoff 1s. */
function endpointOf(raw: Mapping): NotificationEndpointConfig {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(asMapping(raw.headers))) headers[name] = Array.isArray(value) ? value.map(String) : [String(value)];
  const ignore = asMapping(raw.ignore);
  return {
    name: String(raw.name),
    url: String(raw.url),
    headers,
    timeoutMs: duration(raw.timeout, '1s'),
    threshold: typeof raw.threshold === 'number' ? raw.threshold : 10,
    backoffMs: duration(raw.backoff, '1s'),
    ignoredMediaTypes: [...strings(raw.ignoredmediatypes), ...strings(ignore.mediatypes)],
    ignoredActions: strings(ignore.actions),
    disabled: raw.disabled === true,
  };
}
