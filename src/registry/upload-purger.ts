/**
 * Runs upload purging on a timer while the server is up (storage.maintenance.uploadpurging), as
 * distribution does: abandoned upload sessions would otherwise hold their partial data for ever.
 */
import { parseDurationMs } from './duration.js';
import type { RegistryLogger } from './logger.js';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.js';
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

/** stop() ends the timer and waits for a purge in progress */
export type UploadPurger = PeriodicTask;

/** The first purge after a random delay of up to a minute, then every `interval` (see periodic-task.ts). */
export function startUploadPurger(target: PurgeTarget, settings: UploadPurgingSettings, logger: RegistryLogger, random = Math.random): UploadPurger {
  if (!settings.enabled) return { stop: async () => undefined };
  const ageMs = parseDurationMs(settings.age);
  const intervalMs = Math.max(parseDurationMs(settings.interval), 1);
  const runOnce = async (): Promise<void> => {
    try {
      await target.purgeUploads(new Date(Date.now() - ageMs), settings.dryrun);
    } catch (err) {
      logger.warn({ err }, 'upload purge failed; will try again at the next interval');
    }
  };
  const task = startPeriodicTask(intervalMs, runOnce, random);
  logger.info({ age: settings.age, interval: settings.interval, dryRun: settings.dryrun }, 'upload purging scheduled');
  return task;
}
