/**
 * Scheduled sync on timers while the server is up: one periodic task per `sync` entry of each upstream,
 * every `interval` (the first run after a random delay of up to a minute, as for garbage collection).
 * `runNow` runs every entry once at once (operators and tests trigger a sync without waiting on a timer);
 * runs of one entry never overlap, whichever started them.
 */
import { parseDurationMs } from '../duration.js';
import type { RegistryLogger } from '../logger.js';
import { startPeriodicTask, type PeriodicTask } from '../periodic-task.js';
import { runSync, type SyncPort, type SyncReport } from './sync.js';
import { compileSyncContent, type SyncContentConfig } from './sync-rules.js';

export interface SyncedUpstream {
  readonly name: string;
  readonly sync: readonly SyncContentConfig[];
  readonly port: SyncPort;
}

/**
 * The upstreams of the `proxy` section that have `sync` entries, each with the port its syncs store through
 * (the registry's, onto the pull-through).
 */
export function syncedUpstreamsOf(
  mirror: { readonly upstreams: readonly { readonly name: string; readonly sync: readonly SyncContentConfig[] }[] } | undefined,
  registry: { mirrorSyncPort(upstream: string): SyncPort | undefined },
): SyncedUpstream[] {
  return (mirror?.upstreams ?? []).flatMap((upstream) => {
    const port = upstream.sync.length > 0 ? registry.mirrorSyncPort(upstream.name) : undefined;
    return port ? [{ name: upstream.name, sync: upstream.sync, port }] : [];
  });
}

export interface MirrorSyncScheduler {
  /** runs every entry of every upstream once (waiting for a run of an entry already under way first) */
  runNow(): Promise<SyncReport[]>;
  /** stops the timers, aborts runs under way and waits for them */
  stop(): Promise<void>;
}

export interface MirrorSyncOptions {
  /** false: no timers in this process (another process of the server runs them); runNow still works */
  readonly timers: boolean;
  readonly concurrency?: number;
  readonly random?: () => number;
  /** told of each run's report (metrics) */
  readonly reported?: (report: SyncReport) => void;
}

export function startMirrorSync(upstreams: readonly SyncedUpstream[], logger: RegistryLogger, options: MirrorSyncOptions): MirrorSyncScheduler {
  const stopping = new AbortController();
  const entries = upstreams.flatMap((upstream) =>
    upstream.sync.map((content) => {
      // a rule that cannot compile stops the start, rather than failing every run (the config check refuses it first)
      compileSyncContent(content);
      return { upstream, content, last: Promise.resolve() as Promise<unknown> };
    }),
  );
  const runEntry = (entry: (typeof entries)[number]): Promise<SyncReport> => {
    const run = entry.last.then(() =>
      runSync(entry.content, {
        upstream: entry.upstream.name,
        port: entry.upstream.port,
        logger,
        signal: stopping.signal,
        ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      }),
    );
    entry.last = run.catch(() => undefined);
    return run.then((report) => {
      options.reported?.(report);
      return report;
    });
  };
  const tasks: PeriodicTask[] = [];
  if (options.timers) {
    for (const entry of entries) {
      tasks.push(
        startPeriodicTask(
          Math.max(parseDurationMs(entry.content.interval), 1),
          async () => {
            try {
              await runEntry(entry);
            } catch (err) {
              logger.warn({ upstream: entry.upstream.name, err }, 'sync: run failed; the next run retries');
            }
          },
          options.random,
        ),
      );
      logger.info({ upstream: entry.upstream.name, repositories: entry.content.repositories, interval: entry.content.interval }, 'sync scheduled');
    }
  }
  return {
    async runNow() {
      const reports: SyncReport[] = [];
      for (const entry of entries) reports.push(await runEntry(entry));
      return reports;
    },
    async stop() {
      stopping.abort();
      await Promise.all(tasks.map((task) => task.stop()));
      await Promise.all(entries.map((entry) => entry.last));
    },
  };
}
