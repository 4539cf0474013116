/**
 * The primary of `http.workers` (src/cli/workers.ts): it forks the workers, serves the debug address for all
 * of them (health put together from their reports, metrics summed with prom-client's AggregatorRegistry),
 * replaces a worker that dies, and on SIGTERM or SIGINT lets each worker drain (requests in flight finish,
 * as with one process) before it exits itself. It opens no storage and serves no API request.
 */
import cluster, { type Worker } from 'node:cluster';
import type { StowageConfig } from '../config/index.js';
import { opsConfigOf } from '../config/operations.js';
import { createLogger, processRedactor, type Logger } from '../logger.js';
import { startDebugServer, type DebugServer, type MetricsExposition } from '../ops/debug-server.js';
import type { HealthStatus, HealthView } from '../ops/health.js';
import { CliFailure } from './failure.js';
import { isUnderNpm, watchLauncher } from './launcher-watch.js';
import { isWorkerMessage, type WorkerHealth, type WorkerListening } from './worker-messages.js';
import { WORKER_INDEX_ENV } from './workers.js';

/** a worker that dies sooner than this after it started is restarted after a growing delay (a crash loop) */
const STABLE_AFTER_MS = 10_000;
const FIRST_RETRY_MS = 250;
const LONGEST_RETRY_MS = 10_000;

/** The workers' health reports put together: healthy when every worker is, ready when one is and the primary is not stopping. */
class WorkersHealth implements HealthView {
  private readonly reports = new Map<number, WorkerHealth>();
  accepting = true;

  report(index: number, health: WorkerHealth): void {
    this.reports.set(index, health);
  }

  forget(index: number): void {
    this.reports.delete(index);
  }

  status(): HealthStatus {
    const failures: Record<string, string> = {};
    for (const report of this.reports.values()) Object.assign(failures, report.failures);
    return { healthy: [...this.reports.values()].every((report) => report.healthy), failures };
  }

  ready(): boolean {
    return this.accepting && this.status().healthy && [...this.reports.values()].some((report) => report.ready);
  }
}

/** Prometheus metrics of every worker, summed (prom-client asks each worker over the cluster channel). */
async function clusterMetrics(): Promise<MetricsExposition> {
  const { AggregatorRegistry } = await import('prom-client');
  const aggregator = new AggregatorRegistry();
  return { exposition: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }) };
}

interface Slot {
  worker: Worker;
  startedAt: number;
  listening: boolean;
  retryMs: number;
}

export async function superviseWorkers(config: StowageConfig, count: number): Promise<void> {
  const opsConfig = config.ops ?? opsConfigOf({}, config.baseDir);
  const logger: Logger = createLogger({ level: config.log.level, redactor: processRedactor, formatter: opsConfig.log.formatter });
  const health = new WorkersHealth();
  const slots = new Map<number, Slot>();
  let stopping = false;
  let failedStart: string | undefined;
  let allListening: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (allListening = resolve));
  let firstListening: WorkerListening | undefined;
  const exited = new Set<number>();
  let allExited: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (allExited = resolve));
  let exitCode = 0;

  const fork = (index: number, retryMs = 0): void => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    const slot: Slot = { worker, startedAt: Date.now(), listening: false, retryMs };
    slots.set(index, slot);
    exited.delete(index);
    worker.on('message', (message: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.stowage === 'health') health.report(index, message);
      else {
        slot.listening = true;
        firstListening ??= message;
        if ([...slots.values()].every((each) => each.listening)) allListening();
      }
    });
    worker.on('exit', (code, signal) => {
      health.forget(index);
      if (slots.get(index) !== slot) return;
      exited.add(index);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (exited.size === slots.size) allExited();
        return;
      }
      if (!slot.listening && firstListening === undefined) {
        // a worker that could not start (a port in use, a plugin that fails): the others would fail alike
        failedStart = `worker ${index} exited (${signal ?? `code ${code}`}) before it listened`;
        allListening();
        return;
      }
      const lived = Date.now() - slot.startedAt;
      const delay = lived >= STABLE_AFTER_MS ? 0 : Math.min(LONGEST_RETRY_MS, Math.max(FIRST_RETRY_MS, slot.retryMs * 2));
      logger.error({ worker: index, pid: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited: starting another in its place');
      setTimeout(() => {
        if (!stopping) fork(index, delay);
      }, delay).unref();
    });
  };

  let debugServer: DebugServer | undefined;
  if (opsConfig.http.debug) {
    const metrics = opsConfig.http.debug.prometheus.enabled ? await clusterMetrics() : undefined;
    try {
      debugServer = await startDebugServer(opsConfig.http.debug, health, metrics, logger);
    } catch (err) {
      throw new CliFailure(`cannot listen on ${opsConfig.http.debug.addr} (http.debug.addr in ${config.source.file ?? 'the defaults'}): ${(err as Error).message}`);
    }
    logger.info({ url: debugServer.url }, 'debug server listening');
  }

  const stopAll = async (): Promise<void> => {
    stopping = true;
    health.accepting = false;
    for (const [index, slot] of slots) {
      if (exited.has(index)) continue;
      // each worker drains as `stowage serve` alone does on SIGTERM
      slot.worker.process.kill('SIGTERM');
    }
    if (exited.size < slots.size) await stopped;
    await debugServer?.close();
  };

  for (let index = 0; index < count; index++) fork(index);
  await started;
  if (failedStart !== undefined) {
    await stopAll();
    throw new CliFailure(`${failedStart}; its error is above`);
  }

  const stop = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stowage shutting down');
    // a second signal while draining ends everything at once (the workers go with the primary's channel)
    process.once(signal, () => process.exit(1));
    stopAll().then(
      () => {
        process.stdout.write('stowage stopped\n');
        process.exitCode = exitCode;
      },
      (err: unknown) => {
        logger.error({ err }, 'error while shutting down');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (isUnderNpm(process.env)) {
    const unwatch = watchLauncher((launcherPid) => {
      logger.info({ launcherPid }, 'the npm process that started stowage has exited');
      process.emit('SIGTERM', 'SIGTERM');
    });
    process.once('SIGINT', unwatch);
    process.once('SIGTERM', unwatch);
  }
  const first = firstListening as WorkerListening | undefined;
  logger.info({ url: first?.url, workers: count }, 'stowage listening');
  process.stdout.write(`stowage listening on ${first?.url ?? config.http.addr} (storage: ${first?.storage ?? '?'}, ${count} workers)\n`);
}
