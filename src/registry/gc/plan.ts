/**
 * The read-only half of a collection: read every repository, mark, and list the blobs nothing kept
 * references. Both the offline sweep (collector.ts) and the online one (online.ts) execute a plan.
 */
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { listRepositories, readRepository, type RepositoryInventory } from './inventory.js';
import { markRepository, type ManifestToRemove } from './mark.js';
import { listBlobs, type StoredBlob } from './sweep.js';
import type { GcOptions } from './types.js';

export interface CollectionPlan {
  readonly repositories: readonly string[];
  readonly inventories: readonly RepositoryInventory[];
  readonly manifestsToRemove: readonly ManifestToRemove[];
  readonly unreferenced: readonly StoredBlob[];
  readonly blobsKept: number;
  readonly bytesKept: number;
  readonly blobsKeptAsRecent: number;
}

export async function planCollection(storage: RegistryStorage, layout: StorageLayout, logger: RegistryLogger, options: GcOptions): Promise<CollectionPlan> {
  const progress = options.onProgress ?? (() => undefined);
  const cutoff = options.keepWrittenAfter;
  const recent = (time: Date | undefined): boolean => cutoff !== undefined && (time === undefined || time >= cutoff);

  const repositories = await listRepositories(storage, layout);
  const inventories: RepositoryInventory[] = [];
  const marked = new Set<string>();
  const manifestsToRemove: ManifestToRemove[] = [];
  progress({ phase: 'mark', done: 0, total: repositories.length });
  for (const [i, name] of repositories.entries()) {
    await options.keepAlive?.();
    const inventory = await readRepository(storage, layout, logger, name, cutoff !== undefined);
    const marks = markRepository(inventory, options, logger);
    for (const digest of marks.marked) marked.add(digest);
    manifestsToRemove.push(...marks.remove);
    inventories.push(inventory);
    progress({ phase: 'mark', done: i + 1, total: repositories.length });
  }

  progress({ phase: 'scan', done: 0, total: 1 });
  const blobs = await listBlobs(storage, layout);
  progress({ phase: 'scan', done: 1, total: 1 });
  const recentlyLinked = new Set<string>();
  for (const inventory of inventories) {
    for (const [digest, linkedAt] of inventory.layerLinks) if (recent(linkedAt)) recentlyLinked.add(digest);
  }
  const unreferenced: StoredBlob[] = [];
  let blobsKept = 0;
  let bytesKept = 0;
  let blobsKeptAsRecent = 0;
  for (const blob of blobs) {
    const isMarked = marked.has(blob.digest.value);
    if (isMarked || recent(blob.modTime) || recentlyLinked.has(blob.digest.value)) {
      blobsKept += 1;
      bytesKept += blob.size;
      if (!isMarked) blobsKeptAsRecent += 1;
    } else {
      unreferenced.push(blob);
    }
  }
  return { repositories, inventories, manifestsToRemove, unreferenced, blobsKept, bytesKept, blobsKeptAsRecent };
}
