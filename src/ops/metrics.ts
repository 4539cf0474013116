/**
 * Prometheus metrics (prom-client), on a registry of their own per stowage instance so that several
 * instances in one process (tests, embedding) do not mix their numbers. Names follow Prometheus' habits:
 * `stowage_` prefix, base units (seconds, bytes), `_total` for counters.
 */
import type PromClient from 'prom-client';
import { loadWhenNeeded } from '../load-when-needed.js';
import type { Exchange, HttpHook } from '../http/exchange.js';
import { elapsedSeconds } from '../http/exchange.js';
import type { StorageObserver } from '../storage/instrumented.js';

// only a process with metrics on loads prom-client (about 4 MiB resident: docs/bench.md)
const prom = loadWhenNeeded<typeof PromClient>('prom-client');

/** the routes whose requests carry (or finish) an upload's body */
const UPLOAD_ROUTES = new Set(['/v2/<name>/blobs/uploads/', '/v2/<name>/blobs/uploads/<uuid>']);
const UNROUTED = 'unrouted';

export class StowageMetrics {
  readonly registry = new (prom().Registry)();
  private readonly requests = new (prom().Counter)({
    name: 'stowage_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly duration = new (prom().Histogram)({
    name: 'stowage_http_request_duration_seconds',
    help: 'Time from a request arriving to its response being sent, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  private readonly bytesIn = new (prom().Counter)({
    name: 'stowage_http_request_bytes_total',
    help: 'Request body bytes received, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });
  private readonly bytesOut = new (prom().Counter)({
    name: 'stowage_http_response_bytes_total',
    help: 'Response body bytes sent, by route pattern and method',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });
  private readonly inFlight = new (prom().Gauge)({
    name: 'stowage_http_requests_in_flight',
    help: 'Requests being served now',
    registers: [this.registry],
  });
  private readonly uploadsInFlight = new (prom().Gauge)({
    name: 'stowage_uploads_in_flight',
    help: 'Upload requests (POST, PATCH, PUT of blob uploads) being served now',
    registers: [this.registry],
  });
  private readonly storageDuration = new (prom().Histogram)({
    name: 'stowage_storage_operation_duration_seconds',
    help: 'Storage driver operations, by driver and operation (count and latency)',
    labelNames: ['driver', 'operation'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly storageErrors = new (prom().Counter)({
    name: 'stowage_storage_errors_total',
    help: 'Storage driver operations that failed, by driver, operation and storage error code',
    labelNames: ['driver', 'operation', 'code'] as const,
    registers: [this.registry],
  });
  private readonly storageRetries = new (prom().Counter)({
    name: 'stowage_storage_retries_total',
    help: 'Backend requests a driver retried (after a 5xx, 429, timeout or connection failure), by driver',
    labelNames: ['driver'] as const,
    registers: [this.registry],
  });
  readonly notificationsDropped = new (prom().Counter)({
    name: 'stowage_notifications_dropped_total',
    help: 'Events not queued because the endpoint queue was full, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly notificationsSent = new (prom().Counter)({
    name: 'stowage_notifications_sent_total',
    help: 'Events delivered, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly notificationsFailures = new (prom().Counter)({
    name: 'stowage_notifications_failures_total',
    help: 'Failed delivery attempts, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });
  readonly notificationsPending = new (prom().Gauge)({
    name: 'stowage_notifications_pending',
    help: 'Events queued on disk and not yet delivered, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly cacheLookups = new (prom().Counter)({
    name: 'stowage_cache_lookups_total',
    help: 'Lookups in the registry caches (storage.cache), by what was looked up (blob_descriptor, tag, link, small_blob) and result (hit, miss)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly mirrorSyncTags = new (prom().Counter)({
    name: 'stowage_mirror_sync_tags_total',
    help: 'Tags handled by scheduled sync runs (proxy.upstreams[].sync), by upstream and result (stored, failed)',
    labelNames: ['upstream', 'result'] as const,
    registers: [this.registry],
  });

  readonly uploadHashThreadStops = new (prom().Counter)({
    name: 'stowage_upload_hash_thread_stops_total',
    help: 'Times the upload hash thread stopped (crashed, outgrew its heap); the uploads it was hashing are hashed again from storage at their commit',
    registers: [this.registry],
  });

  readonly mirrorSyncBlobs = new (prom().Counter)({
    name: 'stowage_mirror_sync_blobs_total',
    help: 'Blobs of synced tags, by upstream and result (fetched from the upstream, held already)',
    labelNames: ['upstream', 'result'] as const,
    registers: [this.registry],
  });

  /** Byte quotas per namespace (storage.quotas), read from the registry's count at each scrape. */
  watchQuotas(usage: () => Promise<readonly { namespace: string; limitBytes: number; usedBytes: number }[]>): void {
    new (prom().Gauge)({
      name: 'stowage_quota_used_bytes',
      help: 'Deduplicated bytes a quota namespace (storage.quotas) holds',
      labelNames: ['namespace'] as const,
      registers: [this.registry],
      async collect() {
        for (const quota of await usage()) this.set({ namespace: quota.namespace }, quota.usedBytes);
      },
    });
    new (prom().Gauge)({
      name: 'stowage_quota_limit_bytes',
      help: 'The byte quota of a namespace (storage.quotas)',
      labelNames: ['namespace'] as const,
      registers: [this.registry],
      async collect() {
        for (const quota of await usage()) this.set({ namespace: quota.namespace }, quota.limitBytes);
      },
    });
  }

  constructor() {
    prom().collectDefaultMetrics({ register: this.registry });
  }

  /** the HTTP side: one observation per request */
  readonly httpHook: HttpHook = {
    onRequest: () => this.inFlight.inc(),
    onRoute: (exchange) => {
      if (isUpload(exchange)) this.uploadsInFlight.inc();
    },
    onResponse: (exchange: Exchange) => {
      this.inFlight.dec();
      if (isUpload(exchange)) this.uploadsInFlight.dec();
      const route = exchange.route ?? UNROUTED;
      const method = exchange.req.method ?? 'GET';
      this.requests.inc({ route, method, status: String(exchange.res.statusCode) });
      this.duration.observe({ route, method }, elapsedSeconds(exchange));
      this.bytesIn.inc({ route, method }, exchange.bytesIn);
      this.bytesOut.inc({ route, method }, exchange.bytesOut);
    },
  };

  /** the storage side, fed by src/storage/instrumented.ts */
  readonly storageObserver: StorageObserver = {
    operation: (driver, operation, seconds, errorCode) => {
      this.storageDuration.observe({ driver, operation }, seconds);
      if (errorCode !== undefined) this.storageErrors.inc({ driver, operation, code: errorCode });
    },
  };

  countRetry(driver: string): void {
    this.storageRetries.inc({ driver });
  }

  /**
   * In an `http.workers` worker: answer the primary's requests for this registry's metrics (prom-client's
   * cluster protocol), which the primary sums over the workers on its debug address.
   */
  answerClusterPrimary(): void {
    // constructing one installs prom-client's listener for the primary's requests
    new (prom().AggregatorRegistry)();
    prom().AggregatorRegistry.setRegistries([this.registry]);
  }

  /** the text exposition format, and its content type */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** an upload request is counted from the moment it is routed: only then is it known to be one */
const isUpload = (exchange: Exchange): boolean => exchange.route !== undefined && UPLOAD_ROUTES.has(exchange.route) && exchange.req.method !== 'GET' && exchange.req.method !== 'HEAD' && exchange.req.method !== 'DELETE';
