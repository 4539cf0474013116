/**
 * Upload purging (distribution's maintenance.uploadpurging): removes upload sessions started before a
 * given time, found by walking every repository's `_uploads` folder. A session whose `startedat` is
 * missing or unreadable counts as old, as in distribution. A session with a self-proving id (upload-tokens.ts)
 * whose id is still valid gets a record that it ended before its folder goes (`sessions.recordClosed`): else
 * its id would name a fresh session again. Records whose ids have expired are removed with the sessions.
 */
import { basename, type StorageLayout } from './layout.js';
import type { RegistryLogger } from './logger.js';
import type { RegistryStorage } from './storage.js';
import { startedAtMs } from './uploads.js';

export interface PurgeResult {
  /** `<repository>/<upload id>` of every session removed (or that would be, on a dry run) */
  readonly purged: string[];
  /** the driver's leftover temporary objects removed (or that would be), as the driver names them */
  readonly temporaries: string[];
}

/** What purging asks of the upload sessions (uploads.ts). */
export interface PurgedSessions {
  recordClosed(name: string, id: string): Promise<void>;
  purgeClosedRecords(dryRun: boolean): Promise<string[]>;
}

export async function purgeUploads(
  storage: RegistryStorage,
  layout: StorageLayout,
  logger: RegistryLogger,
  olderThan: Date,
  dryRun: boolean,
  sessions?: PurgedSessions,
): Promise<PurgeResult> {
  const purged: string[] = [];
  const root = layout.repositories();

  const visit = async (dir: string): Promise<void> => {
    for (const child of ((await storage.listOrUndefined(dir)) ?? []).sort()) {
      const entry = basename(child);
      if (entry === '_uploads') {
        const name = dir.slice(root.length + 1);
        for (const uploadPath of (await storage.listOrUndefined(child)) ?? []) {
          const id = basename(uploadPath);
          const startedAt = await storage.getOrUndefined(layout.uploadStartedAt(name, id));
          const started = startedAtMs(startedAt);
          if (!Number.isNaN(started) && started >= olderThan.getTime()) continue;
          purged.push(`${name}/${id}`);
          if (dryRun) continue;
          await sessions?.recordClosed(name, id);
          await storage.deleteIfPresent(layout.upload(name, id));
        }
      } else if (!entry.startsWith('_')) {
        await visit(child);
      }
    }
  };

  await visit(root);
  const records = (await sessions?.purgeClosedRecords(dryRun)) ?? [];
  if (records.length > 0) logger.info({ count: records.length, dryRun }, dryRun ? 'upload purge (dry run) would remove records of ended sessions' : 'upload purge removed records of ended sessions');
  if (purged.length > 0) logger.info({ count: purged.length, dryRun }, dryRun ? 'upload purge (dry run) would remove sessions' : 'upload purge removed sessions');
  // what a crash left between a write and its rename is as abandoned as an old session, and as old
  const temporaries = (await storage.driver.purgeTemporaries?.(olderThan, dryRun)) ?? [];
  if (temporaries.length > 0) {
    logger.info({ count: temporaries.length, dryRun }, dryRun ? 'upload purge (dry run) would remove leftover temporary objects' : 'upload purge removed leftover temporary objects');
  }
  return { purged, temporaries };
}
