/**
 * Mark and sweep over distribution's layout, through the storage contract only (so it runs on every
 * driver): read every repository, mark what its kept manifests need, then remove the rest.
 */
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { listRepositories, readRepository, type RepositoryInventory } from './inventory.js';
import { markRepository, type ManifestToRemove } from './mark.js';
import { listBlobs, removeBlob, removeLayerLink, removeManifest, type StoredBlob } from './sweep.js';
import type { GcOptions, GcReport, RemovedBlob } from './types.js';

export async function collectGarbage(storage: RegistryStorage, layout: StorageLayout, logger: RegistryLogger, options: GcOptions): Promise<GcReport> {
  const startedAt = new Date();
  const progress = options.onProgress ?? (() => undefined);
  const recent = (time: Date | undefined): boolean => options.keepWrittenAfter !== undefined && (time === undefined || time >= options.keepWrittenAfter);

  // mark
  const names = await listRepositories(storage, layout);
  const inventories: RepositoryInventory[] = [];
  const marked = new Set<string>();
  const manifestsToRemove: ManifestToRemove[] = [];
  progress({ phase: 'mark', done: 0, total: names.length });
  for (const [i, name] of names.entries()) {
    const inventory = await readRepository(storage, layout, logger, name, options.keepWrittenAfter !== undefined);
    const marks = markRepository(inventory, options, logger);
    for (const digest of marks.marked) marked.add(digest);
    manifestsToRemove.push(...marks.remove);
    inventories.push(inventory);
    progress({ phase: 'mark', done: i + 1, total: names.length });
  }

  // scan: which blobs nothing kept references
  progress({ phase: 'scan', done: 0, total: 1 });
  const blobs = await listBlobs(storage, layout);
  progress({ phase: 'scan', done: 1, total: 1 });
  const unreferenced: StoredBlob[] = [];
  let blobsKept = 0;
  let bytesKept = 0;
  let blobsKeptAsRecent = 0;
  for (const blob of blobs) {
    const linkedRecently = inventories.some((inventory) => {
      const linkedAt = inventory.layerLinks.get(blob.digest.value);
      return linkedAt !== undefined && recent(linkedAt);
    });
    if (marked.has(blob.digest.value) || recent(blob.modTime) || linkedRecently) {
      blobsKept += 1;
      bytesKept += blob.size;
      if (!marked.has(blob.digest.value)) blobsKeptAsRecent += 1;
    } else {
      unreferenced.push(blob);
    }
  }

  // sweep: manifests first (as distribution does), then blobs and the layer links that named them
  const total = manifestsToRemove.length + unreferenced.length;
  progress({ phase: 'sweep', done: 0, total });
  let done = 0;
  if (!options.dryRun) {
    for (const manifest of manifestsToRemove) {
      await removeManifest(storage, layout, manifest);
      progress({ phase: 'sweep', done: ++done, total });
    }
    for (const blob of unreferenced) {
      await removeBlob(storage, layout, blob.digest);
      for (const inventory of inventories) {
        if (inventory.layerLinks.has(blob.digest.value)) await removeLayerLink(storage, layout, inventory.name, blob.digest);
      }
      progress({ phase: 'sweep', done: ++done, total });
    }
  } else {
    progress({ phase: 'sweep', done: total, total });
  }

  const blobsRemoved: RemovedBlob[] = unreferenced.map((blob) => ({ digest: blob.digest.value, size: blob.size }));
  const report: GcReport = {
    dryRun: options.dryRun,
    deleteUntagged: options.deleteUntagged,
    repositories: names.length,
    manifestsRemoved: manifestsToRemove.map(({ repository, digest }) => ({ repository, digest })),
    blobsRemoved,
    bytesRemoved: blobsRemoved.reduce((sum, blob) => sum + blob.size, 0),
    blobsKept,
    bytesKept,
    blobsKeptAsRecent,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
  };
  logger.info(
    { dryRun: report.dryRun, manifestsRemoved: report.manifestsRemoved.length, blobsRemoved: blobsRemoved.length, bytesRemoved: report.bytesRemoved, blobsKept, durationMs: report.durationMs },
    report.dryRun ? 'garbage collection (dry run) finished' : 'garbage collection finished',
  );
  return report;
}
