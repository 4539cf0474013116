/**
 * Runs upload purging on a timer while the server is up (storage.maintenance.uploadpurging), as
 * distribution does: abandoned upload sessions would otherwise hold their partial data for ever.
 */
import { parseDurationMs } from './duration.js';
import type { RegistryLogger } from './logger.js';
import type { PurgeResult } from './purge.js';

export interface UploadPurgingSettings {
  readonly enabled: boolean;
  /** sessions started longer ago than this are removed */
  readonly age: string;
  readonly interval: string;
  readonly dryrun: boolean;
}

export interface PurgeTarget {
  purgeUploads(olderThan: Date, dryRun: boolean): Promise<PurgeResult>;
}

export interface UploadPurger {
  /** stops the timer and waits for a purge in progress */
  stop(): Promise<void>;
}

/**
 * The first purge runs after a random delay of up to a minute (bounded by the interval), so replicas
 * started together do not all walk the storage at once; later ones every `interval`.
 */
export function startUploadPurger(target: PurgeTarget, settings: UploadPurgingSettings, logger: RegistryLogger, random = Math.random): UploadPurger {
  if (!settings.enabled) return { stop: async () => undefined };
  const ageMs = parseDurationMs(settings.age);
  const intervalMs = Math.max(parseDurationMs(settings.interval), 1);
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const runOnce = async (): Promise<void> => {
    try {
      await target.purgeUploads(new Date(Date.now() - ageMs), settings.dryrun);
    } catch (err) {
      logger.warn({ err }, 'upload purge failed; will try again at the next interval');
    }
  };
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(Math.floor(random() * Math.min(intervalMs, 60_000)));
  logger.info({ age: settings.age, interval: settings.interval, dryRun: settings.dryrun }, 'upload purging scheduled');

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
