/**
 * Offline mark and sweep over distribution's layout, through the storage contract only (so it runs on every
 * driver): plan (read every repository, mark), then remove manifests the mark gave up and every blob
 * nothing kept references. Nothing else may write meanwhile: online collection is online.ts.
 */
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { planCollection, type CollectionPlan } from './plan.js';
import { removeBlob, removeLayerLink, removeManifest } from './sweep.js';
import type { GcOptions, GcReport } from './types.js';

export async function collectGarbage(storage: RegistryStorage, layout: StorageLayout, logger: RegistryLogger, options: GcOptions): Promise<GcReport> {
  const startedAt = new Date();
  const progress = options.onProgress ?? (() => undefined);
  const plan = await planCollection(storage, layout, logger, options);

  // manifests first (as distribution does), then blobs and the layer links that named them
  const total = plan.manifestsToRemove.length + plan.unreferenced.length;
  progress({ phase: 'sweep', done: 0, total });
  let done = 0;
  if (!options.dryRun) {
    for (const manifest of plan.manifestsToRemove) {
      await options.keepAlive?.();
      await removeManifest(storage, layout, manifest);
      progress({ phase: 'sweep', done: ++done, total });
    }
    for (const blob of plan.unreferenced) {
      await options.keepAlive?.();
      await removeBlob(storage, layout, blob.digest);
      for (const inventory of plan.inventories) {
        if (inventory.layerLinks.has(blob.digest.value)) await removeLayerLink(storage, layout, inventory.name, blob.digest);
      }
      progress({ phase: 'sweep', done: ++done, total });
    }
  } else {
    progress({ phase: 'sweep', done: total, total });
  }
  const report = reportOf(plan, options, startedAt, Date.now() - startedAt.getTime());
  logReport(logger, report);
  return report;
}

export function reportOf(plan: Pick<CollectionPlan, 'repositories' | 'manifestsToRemove' | 'unreferenced' | 'blobsKept' | 'bytesKept' | 'blobsKeptAsRecent'>, options: GcOptions, startedAt: Date, durationMs: number): GcReport {
  const blobsRemoved = plan.unreferenced.map((blob) => ({ digest: blob.digest.value, size: blob.size }));
  return {
    dryRun: options.dryRun,
    deleteUntagged: options.deleteUntagged,
    repositories: plan.repositories.length,
    manifestsRemoved: plan.manifestsToRemove.map(({ repository, digest }) => ({ repository, digest })),
    blobsRemoved,
    bytesRemoved: blobsRemoved.reduce((sum, blob) => sum + blob.size, 0),
    blobsKept: plan.blobsKept,
    bytesKept: plan.bytesKept,
    blobsKeptAsRecent: plan.blobsKeptAsRecent,
    startedAt,
    durationMs,
  };
}

export function logReport(logger: RegistryLogger, report: GcReport): void {
  logger.info(
    {
      dryRun: report.dryRun,
      manifestsRemoved: report.manifestsRemoved.length,
      blobsRemoved: report.blobsRemoved.length,
      bytesRemoved: report.bytesRemoved,
      blobsKept: report.blobsKept,
      durationMs: report.durationMs,
    },
    report.dryRun ? 'garbage collection (dry run) finished' : 'garbage collection finished',
  );
}
