/**
 * What an operator watches stowage with, put together from the `ops` config: the HTTP hooks (metrics,
 * access log, notifications, CORS, health), the storage driver's measurements, the health checks and the
 * debug server. `createOperations` comes before the driver (its logger counts retries), `start` before the
 * registry listens, `close` after it stopped.
 */
import os from 'node:os';
import type { OpsConfig } from '../config/operations.js';
import type { HttpHook } from '../http/exchange.js';
import type { Registry } from '../registry/index.js';
import type { RegistryLogger } from '../registry/logger.js';
import type { DriverLogger, StorageDriver } from '../storage/driver.js';
import { isPathNotFound } from '../storage/errors.js';
import { instrumentDriver } from '../storage/instrumented.js';
import { Notifier } from '../notifications/index.js';
import { accessLogHook } from './access-log.js';
import { clientAddressResolver } from './client-address.js';
import { corsHook } from './cors.js';
import { ErrorMailer } from './error-mail.js';
import { startDebugServer, type DebugServer } from './debug-server.js';
import { HealthChecks, healthHook } from './health.js';
import { StowageMetrics } from './metrics.js';
import { retryCountingLogger } from './retry-counting-logger.js';

type ChildLogger = DriverLogger & { child?: (bindings: object) => DriverLogger };

export interface StartOperations {
  /** the driver as base.ts wrapped it (health checks are not counted in the storage metrics) */
  readonly driver: StorageDriver;
  readonly registry: Registry;
  /** `http.host`, for the URLs in events */
  readonly externalURL?: string;
  /** the registry's port once it listens, for the events' `source.addr` (distribution's hostname:port) */
  readonly listeningPort: () => string;
  /** false in an `http.workers` worker: the primary serves the debug address for all of them */
  readonly debugServer?: boolean;
}

export class Operations {
  readonly health: HealthChecks;
  readonly metrics: StowageMetrics | undefined;
  private readonly clientAddress;
  private notifier: Notifier | undefined;
  private debugServer: DebugServer | undefined;
  private readonly errorMailer: ErrorMailer | undefined;
  /** the notifier's hook is added by start(); the server reads this array when each request arrives */
  readonly hooks: HttpHook[];

  constructor(
    private readonly config: OpsConfig,
    private readonly logger: RegistryLogger,
  ) {
    this.health = new HealthChecks(logger);
    this.metrics = config.http.debug?.prometheus.enabled ? new StowageMetrics() : undefined;
    this.clientAddress = clientAddressResolver(config.http.trustedproxies);
    this.errorMailer = config.errorMail ? new ErrorMailer(config.errorMail, logger) : undefined;
    // metrics first: it counts every request, including those a later hook answers itself
    this.hooks = [
      ...(this.metrics ? [this.metrics.httpHook] : []),
      ...(config.log.accesslog.disabled ? [] : [accessLogHook(logger, this.clientAddress)]),
      ...(config.http.cors ? [corsHook(config.http.cors)] : []),
      healthHook(this.health),
      ...(this.errorMailer ? [this.errorMailer.hook] : []),
    ];
  }

  /** The logger to build the driver with: it feeds the retry metric. */
  driverLogger<L extends ChildLogger>(logger: L): ChildLogger {
    const metrics = this.metrics;
    return metrics ? retryCountingLogger(logger, (driver) => metrics.countRetry(driver)) : logger;
  }

  /** What the registry's caches report each lookup to: counted when metrics are on. */
  cacheLookupCounter(): ((kind: string, hit: boolean) => void) | undefined {
    const metrics = this.metrics;
    return metrics ? (kind, hit) => metrics.cacheLookups.inc({ kind, result: hit ? 'hit' : 'miss' }) : undefined;
  }

  /** told of each scheduled sync run's counts (src/registry/mirror/sync-scheduler.ts), when metrics are on */
  mirrorSyncCounter(): ((report: { upstream: string; tags: number; failures: readonly { tag?: string }[]; blobsFetched: number; blobsHeld: number }) => void) | undefined {
    const metrics = this.metrics;
    if (!metrics) return undefined;
    return (report) => {
      metrics.mirrorSyncTags.inc({ upstream: report.upstream, result: 'stored' }, report.tags);
      metrics.mirrorSyncTags.inc({ upstream: report.upstream, result: 'failed' }, report.failures.filter((failure) => failure.tag !== undefined).length);
      metrics.mirrorSyncBlobs.inc({ upstream: report.upstream, result: 'fetched' }, report.blobsFetched);
      metrics.mirrorSyncBlobs.inc({ upstream: report.upstream, result: 'held' }, report.blobsHeld);
    };
  }

  /** The driver the registry should use: measured when metrics are on. */
  instrument(driver: StorageDriver): StorageDriver {
    return this.metrics ? instrumentDriver(driver, this.metrics.storageObserver) : driver;
  }

  /** Health checks, notification senders and the debug server; call before the registry listens. */
  async start(parts: StartOperations): Promise<void> {
    this.metrics?.watchQuotas(() => parts.registry.quotaUsage());
    const { storagedriver } = this.config.health;
    if (storagedriver.enabled) this.health.watchStorage(parts.driver, storagedriver);
    if (this.config.notifications.endpoints.some((e) => !e.disabled)) {
      const metrics = this.metrics;
      this.notifier = await Notifier.start({
        config: this.config.notifications,
        logger: this.logger,
        counters: {
          sent: (endpoint, count) => metrics?.notificationsSent.inc({ endpoint }, count),
          failed: (endpoint) => metrics?.notificationsFailures.inc({ endpoint }),
          pending: (endpoint, count) => metrics?.notificationsPending.set({ endpoint }, count),
          dropped: (endpoint) => metrics?.notificationsDropped.inc({ endpoint }),
        },
        context: {
          clientAddress: (exchange) => this.clientAddress(exchange.req),
          ...(parts.externalURL ? { externalURL: parts.externalURL.replace(/\/+$/, '') } : {}),
          blobSize: async (repository, digest) => {
            try {
              return (await parts.registry.statBlob(repository, digest)).size;
            } catch (err) {
              // deleted again already: the event goes without a size
              if (isPathNotFound(err) || (err as { code?: string }).code === 'BLOB_UNKNOWN') return undefined;
              throw err;
            }
          },
        },
        sourceAddr: () => `${os.hostname()}:${parts.listeningPort()}`,
      });
      this.hooks.push(this.notifier.hook);
    }
    if (this.config.http.debug && parts.debugServer !== false) {
      this.debugServer = await startDebugServer(this.config.http.debug, this.health, this.metrics, this.logger);
      this.logger.info({ url: this.debugServer.url }, 'debug server listening');
    }
  }

  /** the debug server's URL, once started */
  get debugURL(): string | undefined {
    return this.debugServer?.url;
  }

  /** Not ready from now on (the registry is draining). */
  async beginShutdown(): Promise<void> {
    await this.health.stop();
  }

  /** After the registry stopped: queue the last events, stop the senders and the debug server. */
  async close(): Promise<void> {
    await this.health.stop();
    await this.notifier?.close();
    await this.debugServer?.close();
    await this.errorMailer?.close();
  }
}
