/**
 * The registry domain service: what the HTTP API does, without HTTP. Every operation validates its
 * names and digests first and answers failures as RegistryError with the spec's codes.
 */
import { annotationsOf, indexedFieldsOf, labelsOf, MAX_INDEXED_CONFIG_BYTES, SearchIndex, type Annotations, type SearchHit, type SearchPage } from './search/index.js';
import { cachedDriver, type RegistryCaches } from './cache/index.js';
import type { StorageDriver } from '../storage/driver.js';
import { withSignal } from '../storage/signal.js';
import { BlobStore, type BlobBody, type BlobDescriptor } from './blobs.js';
import { Catalog } from './catalog.js';
import { CatalogIndex, CatalogIndexState } from './catalog-index.js';
import { digestBytes, isSupportedAlgorithm, parseDigest, type DigestAlgorithm } from './digest.js';
import { RegistryError } from './errors.js';
import { StorageLayout } from './layout.js';
import { silentLogger, type RegistryLogger } from './logger.js';
import { QuotaTracker, type QuotaLimit, type QuotaUsage } from './gc/quota.js';
import { applyRetention, collectGarbage, collectOnline, GcLease, hasUnfinishedRun, PullRecorder, type RetentionPolicy, type RetentionReport, systemClock, type GcClock, type GcOptions, type GcReport, type OnlineGcSettings } from './gc/index.js';
import { ManifestStore, type PushedManifest, type StoredManifest } from './manifests.js';
import { KeptLinks } from './kept-links.js';
import { ManifestBytesCache } from './manifest-bytes-cache.js';
import { PullThrough, type PullRoute, type PullThroughOptions } from './mirror/pull-through.js';
import type { SyncPort } from './mirror/sync.js';
import { checkName, isValidName, isValidUploadId } from './names.js';
import { paginate, type Page, type PageRequest } from './pagination.js';
import { purgeUploads, type PurgeResult } from './purge.js';
import { ReferrersStore, type ReferrersIndex } from './referrers.js';
import { RegistryStorage } from './storage.js';
import { registryErrorOf } from './storage-errors.js';
import { TagStore } from './tags.js';
import { UploadSessions, UploadSessionsState, type ChunkRange, type UploadStatus } from './uploads.js';
import { inlineHasher, uploadHashThread } from './upload-hash.js';

export { RegistryError, type RegistryErrorCode } from './errors.js';
export type { BlobBody, BlobDescriptor } from './blobs.js';
export type { ReadAt } from '../storage/driver.js';
export type { StoredManifest, PushedManifest } from './manifests.js';
export type { Page, PageRequest } from './pagination.js';
export type { ReferrersIndex } from './referrers.js';
export type { PurgeResult } from './purge.js';
export type { QuotaLimit, QuotaUsage } from './gc/quota.js';
export type { GcOptions, GcProgress, GcPhase, GcReport, RemovedBlob, RemovedManifest, OnlineGcSettings, GcClock, RetentionPolicy, RetentionReport } from './gc/index.js';
export type { ChunkRange, UploadStatus } from './uploads.js';
export { MAX_MANIFEST_SIZE } from './manifests.js';
export { checkName, isValidName } from './names.js';
export { disposablePieces } from './disposable-pieces.js';
export { withDeclaredLength } from './declared-length.js';

export interface RegistryOptions {
  readonly driver: StorageDriver;
  /** storage.delete.enabled: deletes answer UNSUPPORTED when false */
  readonly deleteEnabled: boolean;
  /** where distribution's `docker/registry/v2` tree starts inside the driver's namespace; default `/` */
  readonly rootDirectory?: string;
  /** blob GETs redirect to the driver's URL when it offers one (the inverse of storage.redirect.disable); default true */
  readonly redirect?: boolean;
  /** storage.maintenance.readonly.enabled: every write answers UNSUPPORTED */
  readonly readOnly?: boolean;
  readonly logger?: RegistryLogger;
  /** record when manifests are pulled (only a retention policy with keeppulledwithin needs it) */
  readonly recordPulls?: boolean;
  /** byte quotas per namespace (storage.quotas), enforced at upload close and at mount */
  readonly quotas?: readonly QuotaLimit[];
  /** the search index (search/index.ts), shared by every per-request view; one in memory is made when absent */
  readonly searchIndex?: SearchIndex;
  /** storage.cache: reads answered from caches, invalidated by the registry's writes (src/registry/cache) */
  readonly caches?: RegistryCaches;
  /** proxy: pull-through mirroring of the repositories under the upstreams' prefixes (src/registry/mirror) */
  readonly mirror?: PullThroughOptions;
  /** the catalog index's state in this process (catalog-index.ts), shared by every per-request view; made when absent */
  readonly catalogIndex?: CatalogIndexState;
  /** upload bodies hashed on the upload hash thread instead of the request loop (`http.hashthread`, hash-thread-choice.ts) */
  readonly hashThread?: boolean;
}

/** The catalog's page size when `n` is not given, and the largest `n` accepted (distribution's defaults). */
export const CATALOG_DEFAULT_PAGE = 100;
export const CATALOG_MAX_ENTRIES = 1000;
/** the offline collector's lease, renewed between steps */
const OFFLINE_LEASE_MS = 10 * 60_000;

/** The digest algorithm an upload hashes with: sha256 unless the client asked for another one stowage supports. */
function uploadAlgorithmOf(algorithm: string | undefined): DigestAlgorithm {
  if (algorithm === undefined) return 'sha256';
  if (!isSupportedAlgorithm(algorithm)) throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm ${JSON.stringify(algorithm)}`, { algorithm });
  return algorithm;
}

export class Registry {
  readonly deleteEnabled: boolean;
  private readonly readOnly: boolean;
  private readonly blobStore: BlobStore;
  private readonly uploads: UploadSessions;
  private readonly manifestStore: ManifestStore;
  private readonly tagStore: TagStore;
  private readonly referrersStore: ReferrersStore;
  private readonly catalogStore: Catalog;
  private readonly catalogIndex: CatalogIndex;
  private readonly storage: RegistryStorage;
  private readonly layout: StorageLayout;
  private readonly logger: RegistryLogger;
  private readonly options: RegistryOptions;
  private readonly uploadState: UploadSessionsState;
  private readonly pulls: PullRecorder;
  private readonly quotas: QuotaTracker;
  private readonly searchIndex: SearchIndex;
  private readonly pullThrough: PullThrough | undefined;
  /** kept by the registry and shared with every per-request view: a copy made in one request serves the next */
  private readonly manifestBytes: ManifestBytesCache;
  /** link files kept under the driver's content stamps, shared with every per-request view too */
  private readonly keptLinks: KeptLinks;

  constructor(
    options: RegistryOptions,
    uploadState: UploadSessionsState = new UploadSessionsState(options.hashThread === true ? uploadHashThread : inlineHasher),
    pulls?: PullRecorder,
    quotas?: QuotaTracker,
    pullThrough?: PullThrough,
    manifestBytes: ManifestBytesCache = new ManifestBytesCache(),
    keptLinks: KeptLinks = new KeptLinks(),
  ) {
    this.searchIndex = options.searchIndex ?? new SearchIndex(undefined, options.logger);
    const catalogIndex = options.catalogIndex ?? new CatalogIndexState();
    this.options = { ...options, searchIndex: this.searchIndex, catalogIndex };
    this.uploadState = uploadState;
    const layout = new StorageLayout(options.rootDirectory ?? '/');
    const storage = new RegistryStorage(options.caches ? cachedDriver(options.driver, layout, options.caches) : options.driver, keptLinks);
    const logger = options.logger ?? silentLogger;
    // shared by every per-request view, and writing through the registry's own driver (its flushes outlive requests)
    this.pulls = pulls ?? new PullRecorder(storage, layout, logger);
    this.quotas = quotas ?? new QuotaTracker(storage, layout, options.quotas ?? []);
    this.storage = storage;
    this.layout = layout;
    this.logger = logger;
    this.deleteEnabled = options.deleteEnabled;
    this.readOnly = options.readOnly ?? false;
    this.blobStore = new BlobStore(storage, layout, { deleteEnabled: options.deleteEnabled, redirect: options.redirect ?? true });
    this.uploads = new UploadSessions(storage, layout, logger, uploadState);
    this.manifestBytes = manifestBytes;
    this.keptLinks = keptLinks;
    const catalogIndexView = new CatalogIndex(storage, layout, catalogIndex);
    this.manifestStore = new ManifestStore(storage, layout, this.blobStore, { deleteEnabled: options.deleteEnabled, bytesCache: manifestBytes, catalogIndex: catalogIndexView });
    this.tagStore = new TagStore(storage, layout);
    this.referrersStore = new ReferrersStore(storage, layout, this.manifestStore);
    this.catalogStore = new Catalog(storage, layout, catalogIndexView);
    this.catalogIndex = catalogIndexView;
    // built once, on the registry's own view of storage: a fetch outlives the request that began it
    this.pullThrough =
      pullThrough ??
      (options.mirror
        ? new PullThrough(options.mirror, {
            storage,
            layout,
            manifests: this.manifestStore,
            blobs: this.blobStore,
            uploads: this.uploads,
            logger,
            manifestStored: (name, tags, content) => this.searchIndex.manifestPushed(name, tags, () => annotationsOf(content)),
            quotas: this.quotas,
          })
        : undefined);
  }

  /**
   * This registry as one request sees it: every storage call it makes carries `signal`, so a client that
   * disconnects stops the backend work done for it. Upload sessions are shared with the whole registry.
   */
  forRequest(signal: AbortSignal | (() => AbortSignal)): Registry {
    return new Registry({ ...this.options, driver: withSignal(this.options.driver, signal) }, this.uploadState, this.pulls, this.quotas, this.pullThrough, this.manifestBytes, this.keptLinks);
  }

  /**
   * The port a scheduled sync of the upstream named `upstream` stores through (src/registry/mirror/sync.ts);
   * undefined when no such upstream is configured.
   */
  mirrorSyncPort(upstream: string): SyncPort | undefined {
    return this.pullThrough?.syncPort(upstream);
  }

  /** closes the caches' connections, the search index's database and the upstreams' connections (the driver belongs to whoever opened it) */
  async closeCaches(): Promise<void> {
    await this.options.caches?.close();
    await this.searchIndex.close();
    await this.pullThrough?.close();
  }

  // blobs

  /** The blob's descriptor; under a mirrored prefix `forHead` asks the upstream with HEAD only, fetching nothing. */
  async statBlob(name: string, digest: string, options: { readonly forHead?: boolean } = {}): Promise<BlobDescriptor> {
    checkName(name);
    const parsed = parseDigest(digest);
    const route = this.mirrorRoute(name);
    if (!route) return this.boundary(() => this.blobStore.stat(name, parsed), () => blobUnknown(name, parsed.value));
    const local = await this.boundary(() => this.blobStore.statOrUndefined(name, parsed));
    if (local) return local;
    return this.boundary(() => (options.forHead ? this.pullThrough!.blobHead(route, name, parsed) : this.pullThrough!.blob(route, name, parsed)));
  }

  /**
   * The blob's bytes from `offset` (the caller limits the length for ranges). BLOB_UNKNOWN when the blob
   * went away since it was found (a delete between stat and read).
   */
  async readBlob(digest: string, offset: number): Promise<BlobBody> {
    const parsed = parseDigest(digest);
    // a blob being fetched from an upstream is followed as it arrives
    const flight = this.pullThrough?.following(parsed.value);
    if (flight) return { stream: flight.follow(offset) };
    return this.boundary(() => this.blobStore.open(parsed, offset), () => blobUnknown(undefined, parsed.value));
  }

  async blobRedirectURL(digest: string, method: 'GET' | 'HEAD'): Promise<string | undefined> {
    const parsed = parseDigest(digest);
    if (this.pullThrough?.following(parsed.value)) return undefined;
    return this.boundary(() => this.blobStore.redirectURL(parsed, method), () => blobUnknown(undefined, parsed.value));
  }

  async deleteBlob(name: string, digest: string): Promise<void> {
    checkName(name);
    const parsed = parseDigest(digest);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'deleting a blob');
    await this.boundary(() => this.blobStore.delete(name, parsed), () => blobUnknown(name, parsed.value));
  }

  /** Mounts a blob into `name`; undefined when it cannot be mounted (the caller starts an upload instead). */
  async mountBlob(name: string, digest: string, from: string | undefined): Promise<BlobDescriptor | undefined> {
    checkName(name);
    const parsed = parseDigest(digest);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'mounting a blob');
    if (from !== undefined && !isValidName(from)) return undefined;
    await this.quotas.prepare(name);
    const mounted = await this.boundary(() => this.blobStore.mount(name, parsed, from));
    if (mounted) await this.chargeQuota(name, mounted);
    return mounted;
  }

  /** Counts a blob just linked into `name` against its namespace's quota; over the limit, unlinks it and throws DENIED. */
  private async chargeQuota(name: string, blob: BlobDescriptor): Promise<void> {
    try {
      this.quotas.reserve(name, blob.digest, blob.size).commit();
    } catch (err) {
      await this.storage.deleteIfPresent(this.layout.layerLink(name, parseDigest(blob.digest)).replace(/\/link$/, ''));
      throw err;
    }
  }

  /** Usage and limit of every namespace with a quota (GET /v2/_stowage/quotas). */
  async quotaUsage(): Promise<QuotaUsage[]> {
    return this.quotas.usage();
  }

  // uploads

  async startUpload(name: string, algorithm?: string): Promise<UploadStatus> {
    checkName(name);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'pushing a blob');
    const chosen = uploadAlgorithmOf(algorithm);
    return this.boundary(() => this.uploads.start(name, chosen));
  }

  /**
   * A monolithic push, POST ?digest= with the blob as body: a small blob is stored with no upload session at
   * all (src/registry/small-body.ts), a larger one through a session that is gone again when this returns.
   */
  async pushBlob(name: string, digest: string, body: AsyncIterable<Uint8Array>, algorithm?: string): Promise<BlobDescriptor> {
    checkName(name);
    const expected = parseDigest(digest);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'pushing a blob');
    const chosen = uploadAlgorithmOf(algorithm);
    await this.quotas.prepare(name);
    return this.boundary(() => this.uploads.push(name, expected, body, chosen, (blob) => this.quotas.reserve(name, blob.digest, blob.size)));
  }

  async uploadStatus(name: string, id: string): Promise<UploadStatus> {
    this.checkUpload(name, id);
    return this.boundary(() => this.uploads.status(name, id), () => uploadUnknown(name, id));
  }

  async appendUpload(name: string, id: string, body: AsyncIterable<Uint8Array>, range?: ChunkRange): Promise<UploadStatus> {
    this.checkUpload(name, id);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'pushing a blob');
    return this.boundary(() => this.uploads.append(name, id, body, range), () => uploadUnknown(name, id));
  }

  async finishUpload(name: string, id: string, digest: string, body?: AsyncIterable<Uint8Array>, range?: ChunkRange): Promise<BlobDescriptor> {
    this.checkUpload(name, id);
    const expected = parseDigest(digest);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'pushing a blob');
    await this.quotas.prepare(name);
    // admitted against the quota (pushes in flight included) before the blob becomes visible
    return this.boundary(
      () => this.uploads.finish(name, id, expected, body, range, (blob) => this.quotas.reserve(name, blob.digest, blob.size)),
      () => uploadUnknown(name, id),
    );
  }

  async cancelUpload(name: string, id: string): Promise<void> {
    this.checkUpload(name, id);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'cancelling an upload');
    await this.boundary(() => this.uploads.cancel(name, id), () => uploadUnknown(name, id));
  }

  // manifests

  async getManifest(name: string, reference: string): Promise<StoredManifest> {
    checkName(name);
    const route = this.mirrorRoute(name);
    const manifest = route
      ? await this.boundary(() => this.pullThrough!.manifest(route, name, reference), () => manifestUnknown(name, reference))
      : await this.boundary(() => this.manifestStore.get(name, reference), () => manifestUnknown(name, reference));
    // retention's "pulled within": kept in memory, written in batches (src/registry/gc/pulls.ts)
    if (this.options.recordPulls) this.pulls.record(name, manifest.digest);
    return manifest;
  }

  async putManifest(name: string, reference: string, content: Uint8Array, contentType: string | undefined, tags: readonly string[] = []): Promise<PushedManifest> {
    checkName(name);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'pushing a manifest');
    await this.quotas.prepare(name);
    const pushed = await this.boundary(() => this.manifestStore.put(name, reference, content, contentType, tags));
    // a manifest's bytes count towards its namespace too (quotas are enforced on blobs, where the bulk is)
    this.quotas.added(name, pushed.digest, content.length);
    const byTag = !reference.includes(':');
    // recorded before the 201, so a search through any process sharing the index finds the push at once
    await this.searchIndex.manifestPushed(name, byTag ? [reference, ...tags] : tags, () => this.searchAnnotations(content));
    return pushed;
  }

  async deleteManifest(name: string, reference: string): Promise<void> {
    checkName(name);
    this.checkWritable();
    this.pullThrough?.refuseWrite(name, 'deleting a manifest');
    await this.searchIndex.manifestDeleted(name, () => this.boundary(() => this.manifestStore.delete(name, reference), () => manifestUnknown(name, reference)));
  }

  // search

  /** Repositories whose name or tags contain `term`, those `visible` admits, from the search index; `page` pages them by name. */
  async search(term: string, visible: (name: string) => boolean, page: SearchPage = {}): Promise<SearchHit[]> {
    return this.boundary(() => this.searchIndex.search(this, term, visible, page));
  }

  /** Every tag of `name`, for the search index; undefined when storage holds no such repository. */
  async repositoryTags(name: string): Promise<string[] | undefined> {
    const tags: string[] = [];
    let last: string | undefined;
    try {
      for (;;) {
        const page = await this.tagStore.list(name, { n: CATALOG_MAX_ENTRIES, ...(last !== undefined ? { last } : {}) });
        tags.push(...page.entries);
        if (page.next === undefined) return tags;
        last = page.next;
      }
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'NAME_UNKNOWN') return undefined;
      throw err;
    }
  }

  /** The annotations of the manifest `tag` names, for the search index: read without counting as a pull. */
  async tagAnnotations(name: string, tag: string): Promise<Annotations> {
    try {
      return await this.searchAnnotations((await this.manifestStore.get(name, tag)).content);
    } catch {
      // untagged or deleted since the tag was listed: nothing to index
      return {};
    }
  }

  /**
   * What the search index keeps of a manifest: the labels of its image config (docker build's LABEL), with its
   * own top-level annotations over them. A config that cannot be read only costs its labels; one read before
   * (the same image under another tag) is not read again (search/config-labels.ts).
   */
  private async searchAnnotations(content: Uint8Array): Promise<Annotations> {
    const { annotations, config } = indexedFieldsOf(content);
    if (!config) return annotations;
    const known = this.searchIndex.configLabels.get(config.digest);
    if (known) return { ...known, ...annotations };
    try {
      const digest = parseDigest(config.digest);
      const body = await this.blobStore.open(digest, 0);
      const chunks: Buffer[] = [];
      let size = 0;
      try {
        for await (const chunk of body.stream as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > MAX_INDEXED_CONFIG_BYTES) return annotations;
          chunks.push(chunk);
        }
      } finally {
        body.stream.destroy();
      }
      const configContent = Buffer.concat(chunks);
      const labels = labelsOf(configContent);
      // only labels of the bytes the digest names are kept (a blob file damaged on disk is read again next time)
      if (digestBytes(configContent, digest.algorithm) === digest.value) this.searchIndex.configLabels.remember(digest.value, labels);
      return { ...labels, ...annotations };
    } catch {
      return annotations;
    }
  }

  /** Rebuilds the search index from storage (`stowage search reindex`); the number of repositories read. */
  async reindexSearch(): Promise<number> {
    return this.boundary(() => this.searchIndex.rebuild(this));
  }

  /** Builds the search index when it never was (a new database); resolves once it is built. */
  async prepareSearch(): Promise<void> {
    await this.boundary(() => this.searchIndex.ensureBuilt(this));
  }

  /** closes the search index's database */
  async searchIndexClose(): Promise<void> {
    await this.searchIndex.close();
  }

  /** what kind of search index this registry keeps, and where */
  searchStore(): { readonly kind: string; readonly location?: string } {
    return this.searchIndex.store;
  }

  /** after retention or garbage collection removed things: the repositories they touched are read again into the index */
  private async reindexRepositories(names: Iterable<string>): Promise<void> {
    for (const name of new Set(names)) await this.searchIndex.repositoryChanged(name, this);
  }

  // listings

  async listTags(name: string, request: PageRequest): Promise<Page> {
    checkName(name);
    const route = this.mirrorRoute(name);
    // a mirrored repository lists its upstream's tags, as distribution's proxy does; its own when the upstream cannot answer
    const upstreamTags = route ? await this.pullThrough!.upstreamTags(route, name) : undefined;
    if (upstreamTags) return paginate(upstreamTags, request);
    return this.boundary(() => this.tagStore.list(name, request));
  }

  async listReferrers(name: string, subject: string, artifactType?: string): Promise<ReferrersIndex> {
    checkName(name);
    const parsed = parseDigest(subject);
    return this.boundary(() => this.referrersStore.list(name, parsed, artifactType));
  }

  async catalog(request: PageRequest): Promise<Page> {
    if (request.n !== undefined && request.n > CATALOG_MAX_ENTRIES) {
      throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be at most ${CATALOG_MAX_ENTRIES}`, { n: request.n, max: CATALOG_MAX_ENTRIES });
    }
    return this.boundary(() => this.catalogStore.list(request, CATALOG_DEFAULT_PAGE));
  }

  /**
   * `stowage catalog rebuild`: a new catalog index base from a walk of the whole tree (catalog-index.ts); with
   * `tagListings`, every repository's tag listing readied too (catalog.ts `buildIndex`).
   */
  async rebuildCatalogIndex(options: { readonly tagListings?: boolean } = {}): Promise<number> {
    this.checkWritable();
    return this.boundary(() => this.catalogStore.buildIndex(options));
  }

  /**
   * `stowage serve` every `storage.maintenance.catalog.interval`: the catalog index reconciled with the tree
   * (a new base from a walk, redundant journal entries removed); undefined on read-only storage.
   */
  async reconcileCatalogIndex(): Promise<number | undefined> {
    if (this.readOnly) return undefined;
    return this.rebuildCatalogIndex();
  }

  /** `stowage serve` at start: builds the catalog index when storage has none (false when it had one, or is read-only). */
  async prepareCatalogIndex(): Promise<boolean> {
    if (this.readOnly || (await this.boundary(() => this.catalogIndex.ready()))) return false;
    await this.rebuildCatalogIndex();
    return true;
  }

  // maintenance

  /** Removes upload sessions started before `olderThan` (storage.maintenance.uploadpurging). */
  async purgeUploads(olderThan: Date, dryRun = false): Promise<PurgeResult> {
    const result = await purgeUploads(this.storage, this.layout, this.logger, olderThan, dryRun || this.readOnly, this.uploads);
    if (!dryRun && !this.readOnly) {
      for (const session of result.purged) {
        const slash = session.lastIndexOf('/');
        this.uploads.forget(session.slice(0, slash), session.slice(slash + 1));
      }
    }
    return result;
  }

  /**
   * Offline mark and sweep (`stowage garbage-collect`; see src/registry/gc). A read-only registry only
   * dry-runs. A real run takes the collector's lease (refused while an online collection holds it) and first
   * finishes an online run a dead process left, so that nothing stays hidden in its trash.
   */
  async collectGarbage(options: GcOptions, clock: GcClock = systemClock): Promise<GcReport> {
    if (options.dryRun) return collectGarbage(this.storage, this.layout, this.logger, options);
    this.checkWritable();
    const lease = new GcLease(this.storage, this.layout, clock, OFFLINE_LEASE_MS);
    if (!(await lease.acquire())) {
      const holder = await lease.read();
      throw new Error(`another garbage collection (${holder?.holder ?? 'unknown'}) holds the lease in storage until ${holder?.expiresAt ?? 'it expires'}; try again later`);
    }
    try {
      if (await hasUnfinishedRun(this.storage, this.layout)) {
        // offline, nothing is in flight: the recorded run needs no settle wait
        await collectOnline(this.storage, this.layout, this.logger, { deleteUntagged: options.deleteUntagged, dryRun: false, graceMs: 0, settleMs: 0 }, clock, lease);
      }
      const report = await collectGarbage(this.storage, this.layout, this.logger, { ...options, keepAlive: () => lease.keep() });
      await this.quotas.recount();
      await this.reindexRepositories(report.manifestsRemoved.map((removed) => removed.repository));
      return report;
    } finally {
      await lease.release().catch((err: unknown) => this.logger.warn({ err }, 'garbage collection: could not release the lease'));
    }
  }

  /**
   * One online collection (storage.maintenance.gc), safe while this and other processes serve. Undefined
   * when another process holds the collector's lease, or when the registry is read-only and this is no dry run.
   */
  async collectGarbageOnline(settings: OnlineGcSettings, clock: GcClock = systemClock, holder?: string): Promise<GcReport | undefined> {
    if (this.readOnly && !settings.dryRun) return undefined;
    if (settings.dryRun) {
      if (settings.retention?.length) await this.applyRetention(settings.retention, true, clock);
      return collectOnline(this.storage, this.layout, this.logger, settings, clock, new GcLease(this.storage, this.layout, clock, 0, holder));
    }
    // the lease outlives a settle wait (no renewal happens during it) with room to spare
    const ttlMs = Math.max(5 * 60_000, 2 * settings.settleMs + 60_000);
    const lease = new GcLease(this.storage, this.layout, clock, ttlMs, holder);
    if (!(await lease.acquire())) return undefined;
    try {
      if (settings.retention?.length && !(await hasUnfinishedRun(this.storage, this.layout))) {
        await this.applyRetention(settings.retention, false, clock, () => lease.keep());
      }
      const report = await collectOnline(this.storage, this.layout, this.logger, settings, clock, lease);
      // the collector's recount: what other processes linked, and what this run freed
      await this.quotas.recount();
      await this.reindexRepositories(report.manifestsRemoved.map((removed) => removed.repository));
      return report;
    } finally {
      await lease.release().catch((err: unknown) => this.logger.warn({ err }, 'garbage collection: could not release the lease'));
    }
  }

  /**
   * Retention policies (storage.maintenance.retention): deletes the tags and untagged manifests they give up,
   * or only lists them on a dry run. The blobs are freed by the next garbage collection.
   */
  async applyRetention(policies: readonly RetentionPolicy[], dryRun: boolean, clock: GcClock = systemClock, keepAlive?: () => Promise<void>): Promise<RetentionReport> {
    if (!dryRun) this.checkWritable();
    await this.pulls.flush();
    const report = await applyRetention(this.storage, this.layout, this.logger, this.pulls, policies, { dryRun, clock, ...(keepAlive ? { keepAlive } : {}) });
    if (!dryRun) await this.reindexRepositories([...report.tagsDeleted, ...report.manifestsDeleted].map((deleted) => deleted.repository));
    return report;
  }

  /** Writes the pull times still in memory (the server calls it when it stops). */
  async flushPulls(): Promise<void> {
    await this.pulls.flush();
  }

  private checkUpload(name: string, id: string): void {
    checkName(name);
    if (!isValidUploadId(id)) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${JSON.stringify(id)} is not known to repository ${name}`, { upload: id });
  }

  /** Runs a storage-backed operation; what storage throws leaves as a RegistryError (see storage-errors.ts). */
  private async boundary<T>(run: () => Promise<T>, vanished?: () => RegistryError): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw registryErrorOf(err, vanished);
    }
  }

  /**
   * The upstream that pulls of `name` fetch from; undefined for a local repository, and for every repository
   * in read-only mode, where nothing is fetched (and stored) and only what is stored is served.
   */
  private mirrorRoute(name: string): PullRoute | undefined {
    return this.readOnly ? undefined : this.pullThrough?.routeOf(name);
  }

  private checkWritable(): void {
    if (this.readOnly) throw new RegistryError('UNSUPPORTED', 'the registry is in read-only mode (storage.maintenance.readonly)');
  }
}

const blobUnknown = (name: string | undefined, digest: string): RegistryError =>
  new RegistryError('BLOB_UNKNOWN', name ? `blob ${digest} is not known to repository ${name}` : `blob ${digest} is not known`, { digest });
const uploadUnknown = (name: string, id: string): RegistryError =>
  new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id} is not known to repository ${name}`, { upload: id });
const manifestUnknown = (name: string, reference: string): RegistryError =>
  new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known to repository ${name}`, { reference });
