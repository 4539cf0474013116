/** `stowage serve`: load the config and the plugin, wire, listen; close gracefully on SIGINT/SIGTERM. */
import cluster from 'node:cluster';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createStowageContainer } from '../container.js';
import { formatIssue, refuseUnhonouredSettings, type StowageConfig } from '../config/index.js';
import { cachePasswords } from '../config/caches.js';
import { mirrorPasswords } from '../config/mirror.js';
import { opsConfigOf } from '../config/operations.js';
import { createLogger, processRedactor, type Logger } from '../logger.js';
import { listenOn, urlOf } from '../listen.js';
import { Operations } from '../ops/index.js';
import type { HealthView } from '../ops/health.js';
import { createStorageDriver, preparePlugin, type PreparedPlugin } from '../plugins/index.js';
import type { StorageDriver } from '../storage/driver.js';
import { startUploadPurger } from '../registry/upload-purger.js';
import { startUploadHashing } from '../registry/hash-thread-choice.js';
import { uploadHashThread } from '../registry/upload-hash.js';
import { startCatalogIndex } from '../registry/catalog-startup.js';
import { startGcScheduler } from '../registry/gc/index.js';
import { startSearchIndex } from '../registry/search/startup.js';
import { searchSecrets } from '../config/search.js';
import { startMirrorSync, syncedUpstreamsOf } from '../registry/mirror/sync-scheduler.js';
import type { SyncReport } from '../registry/mirror/sync.js';
import { HTTP_SERVER, REGISTRY } from '../tokens.js';
import { storageSummary } from './describe-storage.js';
import { CliFailure } from './failure.js';
import { limitHeapGrowth } from './heap-growth.js';
import { isUnderNpm, watchLauncher } from './launcher-watch.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { reportToPrimary } from './worker-messages.js';
import { superviseWorkers } from './worker-supervisor.js';
import { orphanedQueueRoots, runsPeriodicTasks, workerCount, workerQueueDir, workerRole, type WorkerRole } from './workers.js';

export interface RunningStowage {
  readonly server: http.Server;
  readonly url: string;
  /** the debug server's URL when `http.debug.addr` is set */
  readonly debugURL?: string;
  readonly plugin: PreparedPlugin;
  readonly logger: Logger;
  readonly health: HealthView;
  /** runs every scheduled sync entry (proxy.upstreams[].sync) once now, without waiting for its timer */
  syncNow(): Promise<SyncReport[]>;
  close(): Promise<void>;
}

function listenTarget(config: StowageConfig): { host?: string; port: number } {
  if (config.http.listen) return config.http.listen;
  const match = /^(.*):(\d+)$/.exec(config.http.addr);
  if (!match) return { port: 5000 };
  const host = match[1]!.replace(/^\[(.*)\]$/, '$1');
  return { ...(host === '' ? {} : { host }), port: Number(match[2]) };
}


/**
 * Everything up to a listening server. Config and plugin errors surface here, before any port is opened.
 * `role`: this process is one of `http.workers` (src/cli/workers.ts).
 */
export async function startStowage(config: StowageConfig, role?: WorkerRole): Promise<RunningStowage> {
  refuseUnhonouredSettings(config);
  const redactor = processRedactor;
  const configuredOps = config.ops ?? opsConfigOf({}, config.baseDir);
  const notifications = {
    ...configuredOps.notifications,
    queuedir: workerQueueDir(configuredOps.notifications.queuedir, role),
    adoptfrom: await orphanedQueueRoots(configuredOps.notifications.queuedir, role),
  };
  const opsConfig = { ...configuredOps, notifications };
  if (opsConfig.errorMail?.password) redactor.add([opsConfig.errorMail.password]);
  const processLogger = createLogger({ level: config.log.level, redactor, formatter: opsConfig.log.formatter });
  // each worker's lines say which worker wrote them
  const logger = role ? processLogger.child({ worker: role.index }) : processLogger;
  // `config check` is not the only place an operator learns what is ignored
  for (const warning of config.warnings ?? []) logger.warn({ file: warning.file, key: warning.path }, `configuration: ${formatIssue(warning)}`);
  const ops = new Operations(opsConfig, logger);
  const plugin = await preparePlugin(config);
  redactor.add(plugin.secrets);
  redactor.add(cachePasswords(config));
  redactor.add(mirrorPasswords(config));
  redactor.add(searchSecrets(config));
  const driver: StorageDriver = await createStorageDriver(plugin, ops.driverLogger(logger), config.baseDir);
  const container = createStowageContainer({ config, logger, redactor, driver: ops.instrument(driver), hooks: ops.hooks, ...lookupCounting(ops) });
  const server = container.resolve(HTTP_SERVER);
  const target = listenTarget(config);
  try {
    await ops.start({
      driver,
      registry: container.resolve(REGISTRY),
      ...(config.http.host ? { externalURL: config.http.host } : {}),
      listeningPort: () => String((server.address() as AddressInfo).port),
      debugServer: role === undefined,
    }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (opsConfig.http.debug && (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')) {
        throw new CliFailure(`cannot listen on ${opsConfig.http.debug.addr} (http.debug.addr in ${config.source.file ?? 'the defaults'}): ${(err as Error).message}`);
      }
      throw err;
    });
    await listenOn(server, target.port, target.host);
  } catch (err) {
    await ops.close();
    await container.resolve(REGISTRY).closeCaches();
    await driver.close?.();
    if (err instanceof CliFailure) throw err;
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      const where = config.source.file ?? 'the defaults';
      throw new CliFailure(`cannot listen on ${config.http.addr} (http.addr in ${where}): ${(err as Error).message}`);
    }
    throw err;
  }
  const url = urlOf(server.address() as AddressInfo, config.http.tls !== undefined);
  logger.info({ url, driver: plugin.package.manifest.name, plugin: plugin.package.dir }, 'stowage listening');
  if ((config.auth?.htpasswd || config.auth?.tokenserver) && !config.http.tls) {
    // distribution refuses this outright; stowage allows it for a TLS-terminating proxy in front, but says so
    logger.warn({ key: 'http.tls' }, 'passwords are accepted over plain HTTP: only safe behind a TLS-terminating proxy');
  }
  if (role) ops.metrics?.answerClusterPrimary();
  startUploadHashing(config.http.hashthread, config.http.workers);
  const unwatchHashThread = uploadHashThread.onStopped((exitCode) => {
    ops.metrics?.uploadHashThreadStops.inc();
    logger.warn({ exitCode }, 'the upload hash thread stopped: the uploads it was hashing are hashed again from storage at their commit, and the next upload starts a new thread');
  });
  const periodic = runsPeriodicTasks(role);
  const purger = startUploadPurger(container.resolve(REGISTRY), { ...config.storage.maintenance.uploadpurging, ...(periodic ? {} : { enabled: false }) }, logger);
  startSearchIndex(container.resolve(REGISTRY), logger, { workers: role?.count ?? 1, builds: periodic });
  const catalogIndex = startCatalogIndex(container.resolve(REGISTRY), logger, { builds: periodic, settings: config.storage.maintenance.catalog });
  const collector = startGcScheduler(container.resolve(REGISTRY), { ...config.storage.maintenance.gc, ...(periodic ? {} : { enabled: false }), retention: config.storage.maintenance.retention.policies }, logger);
  const mirrorSync = startMirrorSync(syncedUpstreamsOf(config.mirror, container.resolve(REGISTRY)), logger, { timers: periodic, ...syncCounting(ops) });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      unwatchHashThread();
      // /readyz answers 503 from now on, so an orchestrator stops sending traffic while requests drain
      await ops.beginShutdown();
      await new Promise<void>((resolve) => {
        // Requests in flight finish; a keep-alive connection is closed as soon as it goes idle rather than after
        // the 75 s keep-alive timeout (node closes idle connections once, when close() is called).
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      });
      await purger.stop();
      await catalogIndex.stop();
      await collector.stop();
      await mirrorSync.stop();
      await container.resolve(REGISTRY).flushPulls();
      await ops.close();
      await container.resolve(REGISTRY).closeCaches();
      await driver.close?.();
      await container.dispose();
    })();
    return closing;
  };
  return { server, url, ...(ops.debugURL ? { debugURL: ops.debugURL } : {}), plugin, logger, health: ops.health, syncNow: () => mirrorSync.runNow(), close };
}

export async function serveCommand(flags: ConfigFlag): Promise<void> {
  // every serving process, the primary and each worker (a worker runs this command again)
  limitHeapGrowth();
  const config = await configFor(flags);
  const count = workerCount(config);
  if (count > 1 && cluster.isPrimary) return superviseWorkers(config, count);
  const role = workerRole(config);
  const running = await startStowage(config, role);
  const stop = (signal: NodeJS.Signals) => {
    running.logger.info({ signal }, 'stowage shutting down');
    // a second signal while draining ends the process at once
    process.once(signal, () => process.exit(1));
    running.close().then(
      () => {
        // a worker's stop is told by its primary, once all workers are done
        if (!role) process.stdout.write('stowage stopped\n');
        process.exitCode = 0;
      },
      (err: unknown) => {
        running.logger.error({ err }, 'error while shutting down');
        process.exitCode = 1;
      },
    ).finally(() => {
      // the channel to the primary is the last thing keeping a drained worker alive
      if (role) process.disconnect();
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (role) {
    // the primary announces the server once every worker listens, and watches the launcher
    const stopReporting = reportToPrimary({ url: running.url, storage: storageSummary(running.plugin, config.baseDir) }, running.health);
    process.once('SIGINT', stopReporting);
    process.once('SIGTERM', stopReporting);
    return;
  }
  if (isUnderNpm(process.env)) {
    const unwatch = watchLauncher((launcherPid) => {
      running.logger.info({ launcherPid }, 'the npm process that started stowage has exited');
      process.emit('SIGTERM', 'SIGTERM');
    });
    process.once('SIGINT', unwatch);
    process.once('SIGTERM', unwatch);
  }
  // announced only once the signals are handled: whoever reads this line may stop us at once
  process.stdout.write(`stowage listening on ${running.url} (storage: ${storageSummary(running.plugin, config.baseDir)})\n`);
}

/** scheduled sync runs counted in the metrics, when metrics are on */
function syncCounting(ops: Operations): { reported?: (report: SyncReport) => void } {
  const counter = ops.mirrorSyncCounter();
  return counter ? { reported: counter } : {};
}

/** the caches' lookups counted in the metrics, when metrics are on */
function lookupCounting(ops: Operations): { cacheLookups?: (kind: string, hit: boolean) => void } {
  const counter = ops.cacheLookupCounter();
  return counter ? { cacheLookups: counter } : {};
}
