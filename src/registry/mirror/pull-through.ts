/**
 * On-demand pull-through: what the registry asks when a repository under a mirrored prefix is pulled.
 *
 * - A manifest by tag is served from storage while the tag's fetch record (tag-freshness.ts) is younger
 *   than the upstream's ttl; after that the upstream is asked (HEAD, then a GET only when the digest
 *   changed), and the answer is stored and recorded. When the upstream cannot be asked (down, refusing),
 *   the local copy is served whatever its age, as distribution does.
 * - Content by digest (manifests, blobs) is fetched once and never again: once stored it is served locally.
 * - A blob not stored yet is fetched in a single flight (blob-flight.ts) that streams to every client
 *   pulling it while it is stored; a blob stored for another repository of the same registry is linked
 *   after the upstream confirms (HEAD) that this repository has it too.
 *
 * Everything fetched is stored as a push stores it (revision links, tag links, `_layers` links), so garbage
 * collection, retention, the catalog and distribution itself read it like pushed content.
 */
import os from 'node:os';
import type { MirrorConfig, UpstreamConfig } from '../../config/mirror.js';
import type { BlobStore, BlobDescriptor } from '../blobs.js';
import type { Digest } from '../digest.js';
import { parseDigest } from '../digest.js';
import { parseDurationMs } from '../duration.js';
import { RegistryError, type RegistryErrorCode } from '../errors.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import { parseManifestJson, storedMediaType, type ManifestStore, type StoredManifest } from '../manifests.js';
import type { RegistryStorage } from '../storage.js';
import { isValidName } from '../names.js';
import type { QuotaTracker } from '../gc/quota.js';
import type { UploadSessions } from '../uploads.js';
import { BlobFetcher, type BlobFlight, type FetchAdmission } from './blob-flight.js';
import { MirrorNamespace, type MirrorRoute } from './namespace.js';
import type { SyncPort } from './sync.js';
import { TagFreshness } from './tag-freshness.js';
import { isUpstreamError, UpstreamClient, UpstreamError } from './upstream.js';

export interface PullThroughOptions {
  readonly config: MirrorConfig;
  /** milliseconds since the epoch; tests pass a clock of their own */
  readonly now?: () => number;
  /** where blobs in flight are spooled for their followers; default the system's temporary folder */
  readonly spoolDir?: string;
}

/** the registry's stores, on its own (not a request's) view of storage: a fetch outlives the request that began it */
export interface PullThroughStores {
  readonly storage: RegistryStorage;
  readonly layout: StorageLayout;
  readonly manifests: ManifestStore;
  readonly blobs: BlobStore;
  readonly uploads: UploadSessions;
  readonly logger: RegistryLogger;
  /** told of each manifest stored from an upstream, with the tags it got (the search index) */
  readonly manifestStored?: (name: string, tags: readonly string[], content: Uint8Array) => Promise<void>;
  /** the registry's byte quotas: what the mirror stores is admitted and counted as a push is */
  readonly quotas?: Pick<QuotaTracker, 'prepare' | 'reserve' | 'added'>;
}

interface Upstream {
  readonly config: UpstreamConfig;
  readonly prefix: string;
  readonly remoteprefix: string;
  readonly ttlMs: number;
  readonly client: UpstreamClient;
}

export type PullRoute = MirrorRoute<Upstream>;

/** what a registry without quotas admits: nothing to hold */
const NOTHING_ADMITTED: FetchAdmission = { commit: () => undefined, release: () => undefined };

export class PullThrough {
  private readonly namespace: MirrorNamespace<Upstream>;
  private readonly upstreams: readonly Upstream[];
  private readonly now: () => number;
  private readonly freshness: TagFreshness;
  private readonly fetcher: BlobFetcher;
  /** manifest fetches in progress, so that concurrent pulls of one tag make one upstream request */
  private readonly manifestFetches = new Map<string, Promise<StoredManifest>>();

  constructor(
    options: PullThroughOptions,
    private readonly stores: PullThroughStores,
  ) {
    this.now = options.now ?? Date.now;
    this.upstreams = options.config.upstreams.map((config) => ({
      config,
      prefix: config.prefix,
      remoteprefix: config.remoteprefix,
      ttlMs: parseDurationMs(config.ttl),
      client: new UpstreamClient(config, { now: this.now }),
    }));
    this.namespace = new MirrorNamespace(this.upstreams);
    this.freshness = new TagFreshness(stores.storage, stores.layout);
    this.fetcher = new BlobFetcher(
      {
        // admitted against the namespace's quota by the upstream's Content-Length, before any client's answer
        // starts; the room is held until the verified blob is linked, as a push's is
        admit: (name, digest, size) => this.admit(name, digest, size),
        store: async (name, digest, body, admitted) => {
          const session = await stores.uploads.start(name, digest.algorithm);
          try {
            await stores.uploads.finish(name, session.id, digest, body, undefined, () => admitted);
          } catch (err) {
            admitted.release();
            await stores.uploads.cancel(name, session.id, false).catch(() => undefined);
            throw err;
          }
        },
        link: async (name, digest, admitted) => this.linkUnder(name, digest, admitted ?? (await this.admit(name, digest, (await stores.blobs.existsGlobally(digest)) ?? 0))),
      },
      options.spoolDir ?? os.tmpdir(),
      stores.logger,
    );
  }

  /** the upstream mirroring `name`; undefined when `name` is local */
  routeOf(name: string): PullRoute | undefined {
    return this.namespace.routeOf(name);
  }

  /** Refuses a write to a mirrored repository (distribution refuses every push while proxying). */
  refuseWrite(name: string, what: string): void {
    const route = this.routeOf(name);
    if (!route) return;
    const upstream = route.upstream.config;
    const under = upstream.prefix === '' ? 'this registry mirrors the whole namespace' : `repositories under ${upstream.prefix}/ are mirrored`;
    throw new RegistryError('UNSUPPORTED', `${what} refused: ${under} from upstream ${upstream.name} (${upstream.remoteurl}); push to a repository outside the mirrored prefixes`, { repository: name, upstream: upstream.name });
  }

  /** A manifest of a mirrored repository: local while fresh (tags; `revalidate` asks the upstream anyway) or stored (digests), else from the upstream. */
  async manifest(route: PullRoute, name: string, reference: string, options: { readonly revalidate?: boolean } = {}): Promise<StoredManifest> {
    const remote = route.remoteName;
    if (remote === undefined) throw unknownManifest(name, reference, route);
    const local = await this.stores.manifests.get(name, reference).catch((err: unknown) => {
      if (err instanceof RegistryError && err.code === 'MANIFEST_UNKNOWN') return undefined;
      throw err;
    });
    const byDigest = reference.includes(':');
    if (local && byDigest) return local;
    if (local) {
      const record = await this.freshness.read(name, reference);
      if (!options.revalidate && record && record.digest === local.digest && this.now() - record.fetchedAt < route.upstream.ttlMs) return local;
      try {
        const head = await route.upstream.client.headManifest(remote, reference);
        if (head.digest === local.digest) {
          await this.freshness.write(name, reference, local.digest, this.now());
          return local;
        }
      } catch (err) {
        if (!isUpstreamError(err)) throw err;
        return this.servedLocally(local, err, name, reference);
      }
    }
    return this.once(this.manifestFetches, `${name}\u0000${reference}`, async () => {
      try {
        return await this.fetchManifest(route, remote, name, reference);
      } catch (err) {
        if (local && isUpstreamError(err)) return this.servedLocally(local, err, name, reference);
        throw pullFailure(err, route, name, 'MANIFEST_UNKNOWN', `manifest ${reference}`);
      }
    });
  }

  /**
   * A blob of a mirrored repository that `name` does not hold yet: linked when the registry already
   * stores it, else fetched (or joined while in flight). Resolves with its size once known.
   */
  async blob(route: PullRoute, name: string, digest: Digest): Promise<BlobDescriptor> {
    return (await this.obtainBlob(route, name, digest)).descriptor;
  }

  /**
   * What a HEAD of a blob of a mirrored repository that `name` does not hold yet answers: its size from the
   * upstream's own HEAD, fetching nothing (a client checking which layers it needs must not start a fetch
   * of each); a fetch already in flight, or content stored under another repository, answers as a GET would.
   */
  async blobHead(route: PullRoute, name: string, digest: Digest): Promise<BlobDescriptor> {
    const remote = route.remoteName;
    if (remote === undefined) throw unknownBlob(name, digest, route);
    const flight = this.fetcher.current(digest.value);
    if (flight) return { digest: digest.value, size: flight.size };
    let size: number | undefined;
    try {
      if ((await this.stores.blobs.existsGlobally(digest)) !== undefined) return await this.blob(route, name, digest);
      size = await route.upstream.client.headBlob(remote, digest.value);
    } catch (err) {
      throw pullFailure(err, route, name, 'BLOB_UNKNOWN', `blob ${digest.value}`);
    }
    // an upstream that does not say the size: only the bytes can
    return size === undefined ? this.blob(route, name, digest) : { digest: digest.value, size };
  }

  /**
   * The port a scheduled sync of upstream `upstreamName` goes through (sync.ts): the upstream's repository
   * names mapped under its prefix, and every fetch the on-demand one (ttl, single flight, verification).
   */
  syncPort(upstreamName: string): SyncPort | undefined {
    const upstream = this.upstreams.find((candidate) => candidate.config.name === upstreamName);
    if (!upstream) return undefined;
    const local = (repository: string): { route: PullRoute; name: string } => {
      const name = this.namespace.localNameOf(upstream, repository);
      if (name === undefined || !isValidName(name)) {
        throw new RegistryError('NAME_INVALID', `upstream repository ${repository} of ${upstream.config.name} has no local name here (outside its remoteprefix, covered by another upstream's prefix, or too long)`, { repository });
      }
      return { route: this.routeOf(name)!, name };
    };
    return {
      repositories: async (signal) => (await upstream.client.listRepositories(signal)).filter((repository) => this.namespace.localNameOf(upstream, repository) !== undefined),
      tags: (repository, signal) => upstream.client.listTags(repository, signal),
      manifest: async (repository, reference, signal) => {
        signal.throwIfAborted();
        const { route, name } = local(repository);
        // the sync has just listed the upstream's tags: a tag follows the upstream now, whatever its ttl
        const manifest = await this.manifest(route, name, reference, { revalidate: true });
        return { digest: manifest.digest, content: manifest.content };
      },
      blob: async (repository, digest, signal) => {
        signal.throwIfAborted();
        const { route, name } = local(repository);
        const parsed = parseDigest(digest);
        if (await this.stores.blobs.statOrUndefined(name, parsed)) return false;
        const { flight } = await this.obtainBlob(route, name, parsed);
        if (!flight) return false;
        await flight.settled().catch((err: unknown) => {
          throw pullFailure(err, route, name, 'BLOB_UNKNOWN', `blob ${digest}`);
        });
        return true;
      },
    };
  }

  /** the blob linked into `name` (when stored already) or its flight, joined or started */
  private async obtainBlob(route: PullRoute, name: string, digest: Digest): Promise<{ descriptor: BlobDescriptor; flight?: BlobFlight }> {
    const remote = route.remoteName;
    if (remote === undefined) throw unknownBlob(name, digest, route);
    const client = route.upstream.client;
    try {
      const stored = this.fetcher.current(digest.value) ? undefined : await this.stores.blobs.existsGlobally(digest);
      if (stored !== undefined) {
        // content is never fetched twice; the upstream only confirms this repository has it
        await client.headBlob(remote, digest.value);
        await this.linkCharged(name, digest, stored);
        return { descriptor: { digest: digest.value, size: stored } };
      }
      const flight = await this.fetcher.join(name, digest, {
        open: () => client.getBlob(remote, digest.value),
        confirm: async () => void (await client.headBlob(remote, digest.value)),
      });
      return { descriptor: { digest: digest.value, size: flight.size }, flight };
    } catch (err) {
      throw pullFailure(err, route, name, 'BLOB_UNKNOWN', `blob ${digest.value}`);
    }
  }

  /** The upstream's tags of a mirrored repository; undefined when the upstream cannot say (the caller lists its own). */
  async upstreamTags(route: PullRoute, name: string): Promise<string[] | undefined> {
    if (route.remoteName === undefined) return undefined;
    try {
      return await route.upstream.client.listTags(route.remoteName);
    } catch (err) {
      if (!isUpstreamError(err)) throw err;
      this.stores.logger.warn({ repository: name, err: err.message }, 'mirror: the upstream cannot list its tags; listing the stored ones');
      return undefined;
    }
  }

  /** the blob's flight while it is being fetched: its bytes from `offset`, as they arrive */
  following(digest: string): BlobFlight | undefined {
    return this.fetcher.current(digest);
  }

  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((upstream) => upstream.client.close()));
  }

  private async fetchManifest(route: PullRoute, remote: string, name: string, reference: string): Promise<StoredManifest> {
    const fetched = await route.upstream.client.getManifest(remote, reference);
    await this.stores.quotas?.prepare(name);
    const byDigest = reference.includes(':');
    const tags = byDigest ? [] : [reference];
    // stored by digest with the tag, as a push by digest with ?tag= would; the blobs follow on demand
    await this.stores.manifests.put(name, fetched.digest, fetched.content, fetched.contentType, tags, { requireReferenced: false }).catch((err: unknown) => {
      // what the upstream sent is not a manifest stowage stores (schema 1, an unknown type, not JSON): its fault, not the puller's
      if (err instanceof RegistryError && (err.code === 'MANIFEST_INVALID' || err.code === 'DIGEST_INVALID' || err.code === 'TAG_INVALID')) {
        throw new UpstreamError('invalid', `upstream ${route.upstream.config.name} sent ${remote}:${reference} as something stowage cannot store: ${err.message}`, undefined, { cause: err });
      }
      throw err;
    });
    // a manifest's bytes count towards its namespace, as a pushed one's do
    this.stores.quotas?.added(name, parseDigest(fetched.digest).value, fetched.content.length);
    if (!byDigest) await this.freshness.write(name, reference, fetched.digest, this.now());
    await this.stores.manifestStored?.(name, tags, fetched.content).catch((err: unknown) => this.stores.logger.warn({ err, repository: name }, 'mirror: the search index did not take a fetched manifest'));
    this.stores.logger.info({ repository: name, reference, digest: fetched.digest, upstream: route.upstream.config.name }, 'mirror: manifest fetched from the upstream');
    return { digest: parseDigest(fetched.digest).value, mediaType: storedMediaType(parseManifestJson(fetched.content)), content: fetched.content };
  }

  /** Links stored content into `name`, admitted against its namespace's quota first (DENIED over it, nothing linked). */
  private async linkCharged(name: string, digest: Digest, size: number): Promise<void> {
    await this.linkUnder(name, digest, await this.admit(name, digest, size));
  }

  /** Room for `size` bytes of `digest` in `name`'s quota, held until committed or released (403 DENIED when there is none). */
  private async admit(name: string, digest: Digest, size: number): Promise<FetchAdmission> {
    await this.stores.quotas?.prepare(name);
    return this.stores.quotas?.reserve(name, digest.value, size) ?? NOTHING_ADMITTED;
  }

  /** Links stored blob `digest` into `name`: the room `admitted` holds is committed when linked, released when not. */
  private async linkUnder(name: string, digest: Digest, admitted: FetchAdmission): Promise<void> {
    try {
      await this.stores.blobs.link(name, digest);
    } catch (err) {
      admitted.release();
      throw err;
    }
    admitted.commit();
  }

  private servedLocally(local: StoredManifest, err: UpstreamError, name: string, reference: string): StoredManifest {
    this.stores.logger.warn({ repository: name, reference, err: err.message }, 'mirror: the upstream cannot be asked; serving the stored copy');
    return local;
  }

  private async once<T>(running: Map<string, Promise<T>>, key: string, work: () => Promise<T>): Promise<T> {
    const existing = running.get(key);
    if (existing) return existing;
    const started = work().finally(() => running.delete(key));
    running.set(key, started);
    return started;
  }
}

/** An upstream failure as the puller sees it: unknown content is 404, the upstream's trouble 503 (429 passed on). */
function pullFailure(err: unknown, route: PullRoute, name: string, unknown: RegistryErrorCode, what: string): unknown {
  if (!isUpstreamError(err)) return err;
  const upstream = route.upstream.config.name;
  if (err.failure === 'not-found') return new RegistryError(unknown, `${what} is not known to repository ${name} nor to its upstream ${upstream}`, { upstream }, { cause: err });
  if (err.failure === 'too-many-requests') return new RegistryError('TOOMANYREQUESTS', err.message, { upstream }, { cause: err });
  // Refused credentials are the mirror's configuration, not the client's: 503, as distribution 2.8's cache
  // answers 500 UNKNOWN (and a tag 404 MANIFEST_UNKNOWN, which would hide the cause); the detail says which
  // upstream answered what, the message which user, never a secret.
  const detail = { upstream, ...(err.status !== undefined ? { upstreamStatus: err.status } : {}), ...(err.failure === 'unauthorized' || err.failure === 'denied' ? { reason: `credentials-${err.failure}` } : {}) };
  return new RegistryError('UNAVAILABLE', `${what} of repository ${name} cannot be fetched: ${err.message}`, detail, { cause: err });
}

const unknownManifest = (name: string, reference: string, route: PullRoute): RegistryError =>
  new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known to repository ${name} (${name} is the mirrored prefix itself, which names no upstream repository)`, { upstream: route.upstream.config.name });
const unknownBlob = (name: string, digest: Digest, route: PullRoute): RegistryError =>
  new RegistryError('BLOB_UNKNOWN', `blob ${digest.value} is not known to repository ${name} (${name} is the mirrored prefix itself, which names no upstream repository)`, { upstream: route.upstream.config.name });
