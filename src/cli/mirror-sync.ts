/**
 * `stowage mirror sync [--upstream NAME]`: runs the scheduled sync entries (proxy.upstreams[].sync) once
 * now, on the storage the config names, without a server: for a first fill before serving, a cron job, or
 * after the upstream was down. Safe while servers run on the same storage (content is stored by digest, as
 * a pull stores it). Exit code 1 when a repository or tag could not be synced.
 */
import { REGISTRY } from '../tokens.js';
import { startMirrorSync, syncedUpstreamsOf } from '../registry/mirror/sync-scheduler.js';
import type { SyncReport } from '../registry/mirror/sync.js';
import { mirrorPasswords } from '../config/mirror.js';
import { processRedactor } from '../logger.js';
import { CliFailure } from './failure.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { openOfflineStowage } from './offline-stowage.js';

export interface MirrorSyncFlags extends ConfigFlag {
  readonly upstream?: string;
  readonly json?: boolean;
}

export async function mirrorSyncCommand(flags: MirrorSyncFlags): Promise<void> {
  const config = await configFor(flags);
  const where = config.source.file ?? 'the defaults';
  const withSync = (config.mirror?.upstreams ?? []).filter((upstream) => upstream.sync.length > 0);
  if (withSync.length === 0) throw new CliFailure(`nothing to sync: no upstream in ${where} has proxy.upstreams[].sync entries`);
  const chosen = flags.upstream === undefined ? withSync : withSync.filter((upstream) => upstream.name === flags.upstream);
  if (chosen.length === 0) {
    throw new CliFailure(`no upstream named ${JSON.stringify(flags.upstream)} has sync entries in ${where}; those that do: ${withSync.map((u) => u.name).join(', ')}`);
  }
  processRedactor.add(mirrorPasswords(config));
  const { container, close } = await openOfflineStowage(config);
  let reports: SyncReport[];
  try {
    const scheduler = startMirrorSync(syncedUpstreamsOf({ upstreams: chosen }, container.resolve(REGISTRY)), silentTimers, { timers: false });
    reports = await scheduler.runNow();
    await scheduler.stop();
  } finally {
    await close();
  }
  if (flags.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  else {
    const lines = reports.flatMap((report) => [
      `${report.upstream}: ${report.repositories} repositories, ${report.tags} tags, ${report.manifests} manifests, ${report.blobsFetched} blobs fetched, ${report.blobsHeld} already held, ${report.failures.length} failures`,
      ...report.failures.map((failure) => `  failed: ${failure.repository}${failure.tag !== undefined ? `:${failure.tag}` : ''}: ${failure.message}`),
    ]);
    process.stdout.write(processRedactor.scrub(`${lines.join('\n')}\n`));
  }
  if (reports.some((report) => report.failures.length > 0)) process.exitCode = 1;
}

/** the report is the command's output; the scheduler's own log lines would repeat it */
const ignore = (): void => undefined;
const silentTimers = { debug: ignore, info: ignore, warn: ignore, error: ignore };
