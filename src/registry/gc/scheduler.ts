/**
 * Online garbage collection on a timer while the server is up (storage.maintenance.gc). Every replica may
 * run it: the lease in storage lets one collect at a time, and the others skip their turn.
 */
import { parseDurationMs } from '../duration.js';
import type { RegistryLogger } from '../logger.js';
import { startPeriodicTask } from '../periodic-task.js';
import type { OnlineGcSettings } from './online.js';
import { compilePolicies, type RetentionPolicy } from './retention.js';
import type { GcReport } from './types.js';

/** storage.maintenance.gc, as the config holds it */
export interface GcScheduleSettings {
  readonly enabled: boolean;
  readonly interval: string;
  readonly graceperiod: string;
  readonly settle: string;
  readonly deleteuntagged: boolean;
  readonly dryrun: boolean;
  /** storage.maintenance.retention.policies, applied before each run */
  readonly retention?: readonly RetentionPolicy[];
}

export interface GcTarget {
  /** undefined when another process holds the lease (or the registry is read-only) */
  collectGarbageOnline(settings: OnlineGcSettings): Promise<GcReport | undefined>;
}

export interface GcScheduler {
  /** stops the timer and waits for a collection in progress */
  stop(): Promise<void>;
}

export function onlineSettingsOf(settings: GcScheduleSettings): OnlineGcSettings {
  return {
    deleteUntagged: settings.deleteuntagged,
    dryRun: settings.dryrun,
    graceMs: parseDurationMs(settings.graceperiod),
    settleMs: parseDurationMs(settings.settle),
    ...(settings.retention?.length ? { retention: settings.retention } : {}),
  };
}

/** The first run comes after a random delay of up to a minute (bounded by the interval), then every `interval`. */
export function startGcScheduler(target: GcTarget, settings: GcScheduleSettings, logger: RegistryLogger, random = Math.random): GcScheduler {
  if (!settings.enabled) return { stop: async () => undefined };
  // a malformed policy stops the start, rather than failing every run
  compilePolicies(settings.retention ?? []);
  const intervalMs = Math.max(parseDurationMs(settings.interval), 1);
  const online = onlineSettingsOf(settings);
  const runOnce = async (): Promise<void> => {
    try {
      const report = await target.collectGarbageOnline(online);
      if (!report) logger.debug({}, 'garbage collection skipped: another process holds the lease');
    } catch (err) {
      logger.warn({ err }, 'garbage collection failed; the next run finishes it');
    }
  };
  const task = startPeriodicTask(intervalMs, runOnce, random);
  logger.info({ interval: settings.interval, graceperiod: settings.graceperiod, deleteUntagged: settings.deleteuntagged, dryRun: settings.dryrun }, 'garbage collection scheduled');
  return task;
}
