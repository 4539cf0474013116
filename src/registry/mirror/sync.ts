/**
 * A scheduled sync run: for each `sync` entry of an upstream, list the upstream's tags of the chosen
 * repositories, and store every matching tag's manifest, the children of an index, and every blob they name,
 * through the mirror's own fetcher (the same path an on-demand pull takes), so what a sync stored is exactly
 * what a pull would have stored. Idempotent and resumable: a blob or manifest already held is not fetched
 * again, and a failed tag is logged and retried by the next run.
 */
import { manifestReferences } from '../gc/manifest-references.js';
import type { RegistryLogger } from '../logger.js';
import { compileSyncContent, type SyncContentConfig } from './sync-rules.js';

/** What a sync needs of the mirror; every name is the upstream's (the port maps it under the local prefix). */
export interface SyncPort {
  /** every repository of the upstream (its `_catalog`), for repository globs */
  repositories(signal: AbortSignal): Promise<string[]>;
  tags(repository: string, signal: AbortSignal): Promise<string[]>;
  /** the manifest `reference` (a tag or digest), stored locally (fetched unless held and fresh): its digest and bytes */
  manifest(repository: string, reference: string, signal: AbortSignal): Promise<{ readonly digest: string; readonly content: Uint8Array }>;
  /** the blob, stored locally unless already held: true when it was fetched now */
  blob(repository: string, digest: string, signal: AbortSignal): Promise<boolean>;
}

export interface SyncFailure {
  readonly repository: string;
  readonly tag?: string;
  readonly message: string;
}

export interface SyncReport {
  readonly upstream: string;
  readonly repositories: number;
  readonly tags: number;
  readonly manifests: number;
  readonly blobsFetched: number;
  readonly blobsHeld: number;
  readonly failures: readonly SyncFailure[];
}

export interface SyncRunOptions {
  /** the upstream's name, for logs and the report */
  readonly upstream: string;
  readonly port: SyncPort;
  readonly logger: RegistryLogger;
  /** blobs fetched at once (default 4) */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_SYNC_CONCURRENCY = 4;

/** Runs `task`s with at most `limit` in flight. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One pass over `content` (one `sync` entry). Never throws for an upstream failure: failures are in the report. */
export async function runSync(content: SyncContentConfig, options: SyncRunOptions): Promise<SyncReport> {
  const { port, logger, upstream } = options;
  const signal = options.signal ?? new AbortController().signal;
  const rules = compileSyncContent(content);
  const limit = limiter(Math.max(1, options.concurrency ?? DEFAULT_SYNC_CONCURRENCY));
  const failures: SyncFailure[] = [];
  const counts = { repositories: 0, tags: 0, manifests: 0, blobsFetched: 0, blobsHeld: 0 };

  const repositories = new Set(rules.literalRepositories);
  if (rules.needsCatalog) {
    try {
      for (const name of await port.repositories(signal)) if (rules.repositoryMatches(name)) repositories.add(name);
    } catch (err) {
      failures.push({ repository: content.repositories.join(','), message: `listing the upstream's repositories: ${messageOf(err)}` });
    }
  }

  for (const repository of [...repositories].sort()) {
    if (signal.aborted) break;
    let tags: string[];
    try {
      tags = (await port.tags(repository, signal)).filter((tag) => rules.tagMatches(tag)).sort();
    } catch (err) {
      failures.push({ repository, message: `listing tags: ${messageOf(err)}` });
      logger.warn({ upstream, repository, err }, 'sync: listing tags failed; the next run retries');
      continue;
    }
    counts.repositories++;
    // an image shared by several tags is walked once per run
    const seenManifests = new Set<string>();
    const seenBlobs = new Set<string>();
    const syncManifest = async (reference: string): Promise<void> => {
      const manifest = await port.manifest(repository, reference, signal);
      if (seenManifests.has(manifest.digest)) return;
      seenManifests.add(manifest.digest);
      counts.manifests++;
      const references = manifestReferences(manifest.content);
      if (!references) throw new Error(`${reference} (${manifest.digest}) is not a manifest stowage can read`);
      const blobs = references.blobs.filter((digest) => !seenBlobs.has(digest));
      for (const digest of blobs) seenBlobs.add(digest);
      await Promise.all([
        ...references.children.map((child) => syncManifest(child)),
        ...blobs.map((digest) =>
          limit(async () => {
            if (await port.blob(repository, digest, signal)) counts.blobsFetched++;
            else counts.blobsHeld++;
          }),
        ),
      ]);
    };
    for (const tag of tags) {
      if (signal.aborted) break;
      try {
        await syncManifest(tag);
        counts.tags++;
        logger.debug({ upstream, repository, tag }, 'sync: tag stored');
      } catch (err) {
        failures.push({ repository, tag, message: messageOf(err) });
        logger.warn({ upstream, repository, tag, err }, 'sync: tag not stored; the next run retries');
      }
    }
  }
  const report: SyncReport = { upstream, ...counts, failures };
  logger.info(
    { upstream, repositories: counts.repositories, tags: counts.tags, manifests: counts.manifests, blobsFetched: counts.blobsFetched, blobsHeld: counts.blobsHeld, failures: failures.length },
    'sync: run finished',
  );
  return report;
}
