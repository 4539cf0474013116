/**
 * `stowage garbage-collect [--dry-run] [--delete-untagged]`: distribution's offline `registry garbage-collect`
 * on any storage plugin. Run it with the registry stopped (or in read-only mode): an upload that completes
 * while it runs has no manifest yet and would be swept. The online collector (storage.maintenance.gc) is
 * the one that is safe under traffic.
 */
import type CliProgress from 'cli-progress';
import { loadWhenNeeded } from '../load-when-needed.js';
import type { GcPhase, GcProgress, GcReport } from '../registry/index.js';
import { REGISTRY } from '../tokens.js';
import { storageSummary } from './describe-storage.js';
import { configFor, type ConfigFlag } from './load-config.js';
import { openOfflineStowage } from './offline-stowage.js';

/** cli-progress, loaded by this command only (`serve` never draws a progress bar) */
const progressBars = loadWhenNeeded<typeof CliProgress>('cli-progress');

export interface GarbageCollectFlags extends ConfigFlag {
  readonly dryRun?: boolean;
  readonly deleteUntagged?: boolean;
  readonly json?: boolean;
}

const PHASE_LABEL: Readonly<Record<GcPhase, string>> = { mark: 'marking repositories', scan: 'listing blobs', sweep: 'sweeping' };

/** A progress bar on stderr, only when stderr is a terminal (a log file or a pipe gets the summary alone). */
function progressBar(): { update(progress: GcProgress): void; stop(): void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const cliProgress = progressBars();
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{phase} [{bar}] {value}/{total}', hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let phase: GcPhase | undefined;
  return {
    update(progress) {
      if (progress.phase !== phase) {
        if (phase !== undefined) bar.stop();
        phase = progress.phase;
        bar.start(Math.max(progress.total, 1), progress.done, { phase: PHASE_LABEL[progress.phase].padEnd(20) });
      } else {
        bar.setTotal(Math.max(progress.total, 1));
        bar.update(progress.done);
      }
    },
    stop: () => bar.stop(),
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function summaryLines(report: GcReport): string[] {
  const verb = report.dryRun ? 'eligible for deletion' : 'removed';
  return [
    ...report.manifestsRemoved.map((m) => `manifest ${verb}: ${m.repository}@${m.digest}`),
    ...report.blobsRemoved.map((b) => `blob ${verb}: ${b.digest} (${b.size} bytes)`),
    `${report.dryRun ? 'dry run: nothing was removed; ' : ''}${report.repositories} repositories, ` +
      `${report.manifestsRemoved.length} manifests ${verb}, ${report.blobsRemoved.length} blobs ${verb} (${formatBytes(report.bytesRemoved)}), ` +
      `${report.blobsKept} blobs kept (${formatBytes(report.bytesKept)}) in ${(report.durationMs / 1000).toFixed(1)} s`,
  ];
}

export async function garbageCollectCommand(flags: GarbageCollectFlags): Promise<void> {
  const config = await configFor(flags);
  const { plugin, container, close } = await openOfflineStowage(config);
  const bar = progressBar();
  try {
    if (!flags.json) process.stderr.write(`garbage collection on ${storageSummary(plugin, config.baseDir)}${flags.dryRun ? ' (dry run)' : ''}\n`);
    const report = await container.resolve(REGISTRY).collectGarbage({
      dryRun: flags.dryRun ?? false,
      deleteUntagged: flags.deleteUntagged ?? false,
      onProgress: (progress) => bar.update(progress),
    });
    bar.stop();
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : `${summaryLines(report).join('\n')}\n`);
  } finally {
    bar.stop();
    await close();
  }
}
