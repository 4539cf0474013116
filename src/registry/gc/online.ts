/**
 * Online collection: safe while the registry serves, from one or many processes.
 *
 * A run plans as offline does, keeping everything written (blob data, layer link, revision link) after
 * `cutoff` = start - grace period: a client uploads layers before it pushes the manifest that names them, so
 * anything that recent may be about to be referenced. Then, with the plan recorded in storage
 * (`_stowage/gc/run.json`, so that another process finishes it after a crash):
 *
 * 1. hide: remove the planned manifests' revisions, and move each unreferenced blob's data into the trash
 *    (`_stowage/gc/trash/`), where no push, mount or pull finds it any more;
 * 2. settle: wait `settle`, longer than any request takes between checking that something exists and
 *    writing what depends on it, so that every push that saw a hidden blob or revision has written its own
 *    link or revision by now;
 * 3. rescue: read every revision, tag and layer link written since `cutoff`, and bring back from the trash
 *    (and restore the revision of) everything they reference, children and layers included;
 * 4. purge: delete what is still in the trash, and the old layer links that named it.
 *
 * A push that checks after step 1 finds the blob missing and fails cleanly (the client uploads it again);
 * one that checked before has written by step 3 and is rescued. Nothing acknowledged is lost.
 */
import { randomUUID } from 'node:crypto';
import { isPathNotFound } from '../../storage/errors.js';
import { tryParseDigest, type Digest } from '../digest.js';
import { basename, type StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import type { GcClock } from './clock.js';
import { logReport, reportOf } from './collector.js';
import { digestFolders, listRepositories, modTimeOf } from './inventory.js';
import type { GcLease } from './lease.js';
import { manifestReferences } from './manifest-references.js';
import type { ManifestToRemove } from './mark.js';
import { planCollection } from './plan.js';
import { removeManifest } from './sweep.js';
import type { RetentionPolicy } from './retention.js';
import type { GcProgress, GcReport } from './types.js';

export interface OnlineGcSettings {
  readonly deleteUntagged: boolean;
  readonly dryRun: boolean;
  /** keep whatever was written less than this long before the run started */
  readonly graceMs: number;
  /** the wait between hiding and rescuing (step 2) */
  readonly settleMs: number;
  readonly onProgress?: (progress: GcProgress) => void;
  /** retention policies applied (under the lease) before each run plans */
  readonly retention?: readonly RetentionPolicy[];
}

/** What `_stowage/gc/run.json` records: enough to finish the run in another process. */
interface RunState {
  readonly id: string;
  readonly startedAt: string;
  readonly cutoff: string;
  readonly deleteUntagged: boolean;
  readonly repositories: number;
  readonly manifests: readonly ManifestToRemove[];
  readonly blobs: readonly { readonly digest: string; readonly size: number }[];
  /** `_layers` links that named a planned blob, removed with it unless rescued or rewritten since */
  readonly layerLinks: readonly { readonly repository: string; readonly digest: string }[];
  readonly blobsKept: number;
  readonly bytesKept: number;
  readonly blobsKeptAsRecent: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const manifestKey = (repository: string, digest: string): string => `${repository}@${digest}`;

/** Whether an online run was left unfinished (its plan recorded, blobs possibly in the trash). */
export async function hasUnfinishedRun(storage: RegistryStorage, layout: StorageLayout): Promise<boolean> {
  return storage.exists(layout.gcRunState());
}

async function readRunState(storage: RegistryStorage, layout: StorageLayout, logger: RegistryLogger): Promise<RunState | undefined> {
  const content = await storage.getOrUndefined(layout.gcRunState());
  if (!content) return undefined;
  try {
    const state = JSON.parse(decoder.decode(content)) as RunState;
    if (typeof state.cutoff === 'string' && Array.isArray(state.blobs) && Array.isArray(state.manifests) && Array.isArray(state.layerLinks)) return state;
  } catch {
    // fall through
  }
  logger.warn({ path: layout.gcRunState() }, 'garbage collection: the recorded run state is unreadable; starting a new run');
  return undefined;
}

/**
 * One online collection under `lease` (which the caller has acquired). Resumes the recorded run when a
 * previous holder died during one.
 */
export async function collectOnline(
  storage: RegistryStorage,
  layout: StorageLayout,
  logger: RegistryLogger,
  settings: OnlineGcSettings,
  clock: GcClock,
  lease: GcLease,
): Promise<GcReport> {
  const progress = settings.onProgress ?? (() => undefined);
  const runStarted = clock.now();
  let state = settings.dryRun ? undefined : await readRunState(storage, layout, logger);
  if (state) {
    logger.warn({ run: state.id, startedAt: state.startedAt }, 'garbage collection: finishing a run another process left unfinished');
  } else {
    const cutoff = new Date(runStarted.getTime() - settings.graceMs);
    const options = { dryRun: settings.dryRun, deleteUntagged: settings.deleteUntagged, keepWrittenAfter: cutoff, onProgress: progress };
    const plan = await planCollection(storage, layout, logger, options);
    if (settings.dryRun) {
      const report = reportOf(plan, options, runStarted, clock.now().getTime() - runStarted.getTime());
      logReport(logger, report);
      return report;
    }
    const planned = new Set(plan.unreferenced.map((blob) => blob.digest.value));
    state = {
      id: randomUUID(),
      startedAt: runStarted.toISOString(),
      cutoff: cutoff.toISOString(),
      deleteUntagged: settings.deleteUntagged,
      repositories: plan.repositories.length,
      manifests: plan.manifestsToRemove,
      blobs: plan.unreferenced.map((blob) => ({ digest: blob.digest.value, size: blob.size })),
      layerLinks: plan.inventories.flatMap((inventory) =>
        [...inventory.layerLinks.keys()].filter((digest) => planned.has(digest)).map((digest) => ({ repository: inventory.name, digest })),
      ),
      blobsKept: plan.blobsKept,
      bytesKept: plan.bytesKept,
      blobsKeptAsRecent: plan.blobsKeptAsRecent,
    };
    await lease.keep();
    await storage.driver.putContent(layout.gcRunState(), encoder.encode(JSON.stringify(state)));
  }
  const cutoff = new Date(state.cutoff);
  const total = state.manifests.length + state.blobs.length;
  let done = 0;
  progress({ phase: 'sweep', done, total });

  // 1. hide
  for (const manifest of state.manifests) {
    await lease.keep();
    await removeManifest(storage, layout, manifest);
  }
  for (const blob of state.blobs) {
    await lease.keep();
    await hideBlob(storage, layout, tryParseDigest(blob.digest)!, cutoff);
  }
  // 2. settle
  await clock.sleep(settings.settleMs);
  await lease.renew();
  // 3. rescue
  const rescue = await rescueFreshReferences(storage, layout, state, cutoff, lease);
  // 4. purge
  for (const blob of state.blobs) {
    if (rescue.blobs.has(blob.digest)) continue;
    await lease.keep();
    await storage.deleteIfPresent(layout.gcTrash(tryParseDigest(blob.digest)!));
    progress({ phase: 'sweep', done: ++done, total });
  }
  for (const link of state.layerLinks) {
    if (rescue.blobs.has(link.digest)) continue;
    const digest = tryParseDigest(link.digest)!;
    const linkedAt = await modTimeOf(storage, layout.layerLink(link.repository, digest));
    // a link rewritten since the plan belongs to an upload or mount of the same bytes: it stays
    if (linkedAt !== undefined && linkedAt < cutoff) await storage.deleteIfPresent(layout.layerLink(link.repository, digest).replace(/\/link$/, ''));
  }
  await storage.deleteIfPresent(layout.gcRunState());
  progress({ phase: 'sweep', done: total, total });

  const report: GcReport = {
    dryRun: false,
    deleteUntagged: state.deleteUntagged,
    repositories: state.repositories,
    manifestsRemoved: state.manifests
      .filter((m) => !rescue.manifests.has(manifestKey(m.repository, m.digest)))
      .map(({ repository, digest }) => ({ repository, digest })),
    blobsRemoved: state.blobs.filter((blob) => !rescue.blobs.has(blob.digest)),
    bytesRemoved: state.blobs.filter((blob) => !rescue.blobs.has(blob.digest)).reduce((sum, blob) => sum + blob.size, 0),
    blobsKept: state.blobsKept + rescue.blobs.size,
    bytesKept: state.bytesKept + state.blobs.filter((blob) => rescue.blobs.has(blob.digest)).reduce((sum, blob) => sum + blob.size, 0),
    blobsKeptAsRecent: state.blobsKeptAsRecent + rescue.blobs.size,
    startedAt: runStarted,
    durationMs: clock.now().getTime() - runStarted.getTime(),
  };
  logReport(logger, report);
  return report;
}

/** Moves the blob's data into the trash, unless it was written since the cutoff (a new upload of the same bytes). */
async function hideBlob(storage: RegistryStorage, layout: StorageLayout, digest: Digest, cutoff: Date): Promise<void> {
  const writtenAt = await modTimeOf(storage, layout.blobData(digest));
  if (writtenAt === undefined || writtenAt >= cutoff) return;
  try {
    await storage.driver.move(layout.blobData(digest), layout.gcTrash(digest));
  } catch (err) {
    if (!isPathNotFound(err)) throw err;
  }
  await storage.deleteIfPresent(layout.blobDir(digest));
}

async function restoreBlob(storage: RegistryStorage, layout: StorageLayout, digest: Digest): Promise<void> {
  if ((await storage.sizeOf(layout.blobData(digest))) !== undefined) {
    await storage.deleteIfPresent(layout.gcTrash(digest));
    return;
  }
  try {
    await storage.driver.move(layout.gcTrash(digest), layout.blobData(digest));
  } catch (err) {
    if (!isPathNotFound(err)) throw err;
  }
}

/** Brings back everything a link, tag or revision written since `cutoff` references; returns what it rescued. */
async function rescueFreshReferences(
  storage: RegistryStorage,
  layout: StorageLayout,
  state: RunState,
  cutoff: Date,
  lease: GcLease,
): Promise<{ blobs: Set<string>; manifests: Set<string> }> {
  const fresh = (time: Date | undefined): boolean => time !== undefined && time >= cutoff;
  const freshManifests: [string, string][] = [];
  const freshBlobs: string[] = [];
  for (const repository of await listRepositories(storage, layout)) {
    await lease.keep();
    for (const digest of await digestFolders(storage, `${layout.manifests(repository)}/revisions`)) {
      if (fresh(await modTimeOf(storage, layout.revisionLink(repository, digest)))) freshManifests.push([repository, digest.value]);
    }
    for (const tagPath of (await storage.listOrUndefined(layout.tags(repository))) ?? []) {
      const current = layout.tagCurrentLink(repository, basename(tagPath));
      if (!fresh(await modTimeOf(storage, current))) continue;
      const digest = await storage.readLink(current);
      if (digest) freshManifests.push([repository, digest.value]);
    }
    for (const digest of await digestFolders(storage, `${layout.repository(repository)}/_layers`)) {
      if (fresh(await modTimeOf(storage, layout.layerLink(repository, digest)))) freshBlobs.push(digest.value);
    }
  }

  const trashed = new Set(state.blobs.map((blob) => blob.digest));
  const removed = new Map(state.manifests.map((m) => [manifestKey(m.repository, m.digest), m]));
  const rescuedBlobs = new Set<string>();
  const restoredManifests = new Set<string>();
  const seen = new Set<string>();

  const rescueBlob = async (value: string): Promise<void> => {
    if (!trashed.has(value) || rescuedBlobs.has(value)) return;
    rescuedBlobs.add(value);
    await restoreBlob(storage, layout, tryParseDigest(value)!);
  };
  const rescueManifest = async (repository: string, value: string): Promise<void> => {
    const key = manifestKey(repository, value);
    const digest = tryParseDigest(value);
    if (seen.has(key) || !digest) return;
    seen.add(key);
    await rescueBlob(value);
    const removedManifest = removed.get(key);
    if (removedManifest) {
      restoredManifests.add(key);
      await storage.writeLink(layout.revisionLink(repository, digest), digest);
      const subject = removedManifest.subject ? tryParseDigest(removedManifest.subject) : undefined;
      if (subject) await storage.writeLink(layout.referrerLink(repository, subject, digest), digest);
    }
    const content = await storage.getOrUndefined(layout.blobData(digest));
    const references = content ? manifestReferences(content) : undefined;
    for (const blob of references?.blobs ?? []) await rescueBlob(blob);
    for (const child of references?.children ?? []) await rescueManifest(repository, child);
  };
  for (const [repository, digest] of freshManifests) await rescueManifest(repository, digest);
  for (const digest of freshBlobs) await rescueBlob(digest);
  return { blobs: rescuedBlobs, manifests: restoredManifests };
}
