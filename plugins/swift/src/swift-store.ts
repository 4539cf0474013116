/**
 * The ObjectStore over one Swift container: token-authenticated requests on the kit's HttpClient, JSON
 * listings. Everything about stowage paths, writers and listings is the kit's ObjectDriver; what is
 * Swift's own is here:
 *  - a multipart upload is a set of segment objects under a prefix of its own (`<prefix>/segments/<random>`,
 *    the upload id), made visible by a Static Large Object manifest (`?multipart-manifest=put`), so objects
 *    larger than Swift's 5 GB limit work and Swift checks every segment's ETag and size on commit;
 *  - a copy of an SLO copies its manifest (`?multipart-manifest=get`), so source and destination share the
 *    segments until the move deletes the source alone; the segments are first marked as the destination's
 *    (`<prefix>/segment-owners/<upload>`), so a source left behind by an interrupted move is later deleted
 *    without them; content is deleted with the segments it owns (`?multipart-manifest=delete`); what an
 *    overwritten manifest owned is deleted after it;
 *  - small objects (sidecars, segments of an aborted upload) go through the bulk delete middleware when the
 *    cluster offers it;
 *  - redirects are TempURLs signed with the container's (or account's) key.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { DriverLogger } from 'stowage';
import {
  BackendError,
  type BufferedReply,
  HttpObjectStore,
  keysUnder,
  type ListPage,
  type MultipartUpload,
  type ObjectStore,
  type OutgoingRequest,
  storageFailed,
  type StoreCall,
  type UploadedPart,
} from '@stowage/backend-kit';
import type { ResolvedSwiftOptions } from './options.js';
import { SwiftSessions } from './session.js';
import { tempUrl } from './tempurl.js';

type Query = Record<string, string>;
type Call = StoreCall<Query>;

/**
 * Swift's own word on a retry, as data for the kit's classifier: 422 is its answer to a body that does
 * not match the ETag sent, so the body was damaged on the way and resending it (a replayable buffer) is safe.
 */
const RETRIABLE_STATUSES = new Set([422]);

/** Swift's listing entries (format=json). */
interface ListingEntry {
  readonly name?: string;
  readonly subdir?: string;
  readonly bytes?: number;
  /** ISO time without a zone, in UTC */
  readonly last_modified?: string;
}

export interface BulkDeleteSupport {
  readonly maxPerRequest: number;
}

export interface TempUrlSettings {
  readonly key: string;
  readonly methods: readonly string[];
}

/** Encodes an object name for a URL path, keeping its `/` separators. */
const encodeName = (name: string): string => name.split('/').map(encodeURIComponent).join('/');
const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');
const queryString = (query: Query | undefined): string =>
  query && Object.keys(query).length > 0 ? '?' + new URLSearchParams(query).toString().replace(/=(&|$)/g, '$1') : '';

export class SwiftStore extends HttpObjectStore<Query> implements ObjectStore {
  readonly partSizeHint: number;
  /** a Swift copy is the cluster's for any object: an SLO is copied as its manifest */
  readonly serverCopyLimit = Number.POSITIVE_INFINITY;
  /** Swift allows 1000 segments an SLO: segments grow, so 1000 hold 3750 x chunksize */
  readonly growingParts = true;
  readonly sessions: SwiftSessions;
  /** set once `/info` was read (index.ts) */
  bulkDelete: BulkDeleteSupport | undefined;
  tempUrlSettings: TempUrlSettings | undefined;
  private readonly segmentRoot: string;
  private readonly ownerRoot: string;
  private readonly logger: DriverLogger;

  constructor(
    private readonly options: ResolvedSwiftOptions,
    logger: DriverLogger,
  ) {
    // authentication uses the store's connection pool, which exists once the store does
    const pool: { dispatcher?: Dispatcher } = {};
    const sessions = new SwiftSessions(options, logger, () => pool.dispatcher!);
    super({
      driver: 'swift',
      retries: options.retries,
      retryIntervalMs: options.retryDelayMs,
      backoff: true,
      timeoutMs: options.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      tls: { rejectUnauthorized: !options.insecureSkipVerify, ...(options.ca ? { ca: options.ca } : {}) },
      logger,
      retriableReply: (reply: BufferedReply) => RETRIABLE_STATUSES.has(reply.status),
      renewCredentials: async () => sessions.renew(),
    });
    pool.dispatcher = this.http.dispatcher;
    this.sessions = sessions;
    this.logger = logger;
    this.partSizeHint = options.chunkSize;
    this.segmentRoot = options.prefix ? `${options.prefix}/segments` : 'segments';
    this.ownerRoot = options.prefix ? `${options.prefix}/segment-owners` : 'segment-owners';
  }

  /** The driver's root: committed content and its upload sidecars, under `files` as in distribution's layout. */
  get filesRoot(): string {
    return this.options.prefix ? `${this.options.prefix}/files` : 'files';
  }

  private get containerPath(): string {
    return '/' + encodeURIComponent(this.options.container);
  }

  /** `/<container>/<name>`, the form SLO manifests, X-Copy-From, bulk delete and TempURLs use */
  private qualified(name: string): string {
    return `/${this.options.container}/${name}`;
  }

  /** the URL of a path below the storage URL: '' is the account */
  private async url(path: string, query?: Query): Promise<{ url: string; token: string }> {
    const session = await this.sessions.forRequest();
    const base = new URL(session.storageUrl);
    return { url: `${base.origin}${base.pathname.replace(/\/+$/, '')}${path}${queryString(query)}`, token: session.token };
  }

  /** `key` '' addresses the container. */
  protected build(call: Call): () => Promise<OutgoingRequest> {
    return () => this.request(call.key === '' ? this.containerPath : `${this.containerPath}/${encodeName(call.key)}`, call);
  }

  private async request(path: string, call: Omit<Call, 'key'>): Promise<OutgoingRequest> {
    const { url, token } = await this.url(path, call.query);
    return { method: call.method, url, headers: { ...call.headers, 'x-auth-token': token }, body: call.body };
  }

  protected describe(call: Call): string {
    const sub = Object.keys(call.query ?? {}).filter((k) => ['multipart-manifest', 'bulk-delete', 'prefix'].includes(k));
    return `${call.method} ${call.key || this.options.container}${sub.length ? ` (${sub.map((k) => `${k}=${call.query![k]}`).join(', ')})` : ''}`;
  }

  /** Swift's error bodies carry no code worth quoting (and a proxy's may echo the request): the status says it. */
  protected fail(call: Call, reply: BufferedReply): Error {
    return new BackendError(`swift answered ${reply.status} to ${this.describe(call)}`, reply.status);
  }

  /** A call on the account (the storage URL itself): tempurl keys, bulk delete. */
  async accountCall(method: string, headers: Record<string, string>, query?: Query, body?: Buffer): Promise<BufferedReply> {
    const what = `${method} account${query ? ` (${Object.keys(query).join(', ')})` : ''}`;
    const reply = await this.http.call(() => this.request('', { method, headers, query, body }), what);
    if (reply.status < 200 || reply.status >= 300) throw new BackendError(`swift answered ${reply.status} to ${what}`, reply.status);
    return reply;
  }

  /** A call on the container: its existence, its tempurl key. */
  containerCall(method: string, headers: Record<string, string> = {}, ...ok: number[]): Promise<BufferedReply> {
    return this.expect({ method, key: '', headers, ...(method === 'PUT' || method === 'POST' ? { body: Buffer.alloc(0) } : {}) }, 200, 201, 202, 204, ...ok);
  }

  /** `/info`, public and optional (a cluster without it gets no bulk delete). */
  async clusterInfo(): Promise<BufferedReply> {
    const session = await this.sessions.current();
    const origin = new URL(session.storageUrl).origin;
    return this.http.call(() => ({ method: 'GET', url: `${origin}/info`, headers: {} }), 'GET /info');
  }

  /** Swift checks the body against the ETag sent: a body damaged on the way is refused (422, retried), never stored. */
  async put(key: string, body: Buffer): Promise<void> {
    await this.expect({ method: 'PUT', key, body, headers: { 'content-type': 'application/octet-stream', etag: md5(body) } }, 201);
  }

  /** `If-None-Match: *`: Swift refuses (412) to write over an existing object. */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const reply = await this.expect({ method: 'PUT', key, body, headers: { 'content-type': 'application/octet-stream', etag: md5(body), 'if-none-match': '*' } }, 201, 412);
    return reply.status === 201;
  }

  /** Plain deletes (sidecars, segments), through the bulk middleware when the cluster offers it; missing keys are fine. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (!this.bulkDelete || keys.length === 1) {
      for (const key of keys) await this.expect({ method: 'DELETE', key }, 204, 404);
      return;
    }
    for (let start = 0; start < keys.length; start += this.bulkDelete.maxPerRequest) {
      const batch = keys.slice(start, start + this.bulkDelete.maxPerRequest);
      const reply = await this.accountCall(
        'POST',
        { 'content-type': 'text/plain', accept: 'application/json' },
        { 'bulk-delete': '' },
        Buffer.from(batch.map((key) => encodeName(this.qualified(key))).join('\n')),
      );
      this.checkBulkResult(reply, `bulk delete of ${batch.length} objects`);
      this.logger.debug({ count: batch.length }, 'swift bulk delete');
    }
  }

  /**
   * Content, with the segments of any SLO manifest among it that it owns (`?multipart-manifest=delete`,
   * which Swift refuses for a plain object: those go through deleteKeys). Segments a move handed to
   * another manifest (see copy) stay with it.
   */
  async deleteContent(keys: readonly string[]): Promise<void> {
    const plain: string[] = [];
    for (const key of keys) {
      const segments = await this.manifestSegments(key);
      if (segments === undefined) {
        plain.push(key);
        continue;
      }
      const owned = await this.ownedBy(key, segments);
      if (owned.length === segments.length) {
        const call: Call = { method: 'DELETE', key, query: { 'multipart-manifest': 'delete' }, headers: { accept: 'application/json' } };
        this.checkBulkResult(await this.expect(call, 200), this.describe(call));
      } else {
        await this.expect({ method: 'DELETE', key }, 204, 404);
        await this.deleteKeys(owned);
      }
      await this.deleteKeys(this.ownerMarkers(owned));
    }
    await this.deleteKeys(plain);
  }

  /** The JSON summary the bulk middleware (and an SLO delete, which runs through it) answers with a 200. */
  private checkBulkResult(reply: BufferedReply, what: string): void {
    const result = JSON.parse(reply.body.toString('utf8')) as { 'Response Status'?: string; Errors?: [string, string][] };
    const failures = (result.Errors ?? []).filter(([, status]) => !status.startsWith('404'));
    if (failures.length > 0 || !/^(2\d\d|404)/.test(result['Response Status'] ?? '200')) {
      const status = Number((result['Response Status'] ?? '').slice(0, 3)) || undefined;
      throw new BackendError(`swift: ${what}: ${result['Response Status'] ?? 'no status'}; ${failures.length} failed`, status, status !== undefined && status >= 500);
    }
  }

  /** JSON listings; the next page starts after the last name (or subdir) of a full page. */
  async list(prefix: string, delimiter: string, marker: string | undefined, limit: number): Promise<ListPage> {
    const pageSize = Math.min(limit, this.options.listPageSize);
    const query: Query = { format: 'json', prefix, limit: String(pageSize) };
    if (delimiter) query.delimiter = delimiter;
    if (marker) query.marker = marker;
    const reply = await this.expect({ method: 'GET', key: '', query }, 200, 204, 404);
    if (reply.status === 404) throw new BackendError(`swift: container ${this.options.container} does not exist`, 404);
    const entries = reply.status === 204 ? [] : (JSON.parse(reply.body.toString('utf8')) as ListingEntry[]);
    const objects = entries
      .filter((entry) => entry.name !== undefined)
      .map((entry) => ({ key: entry.name!, size: entry.bytes ?? 0, modified: entry.last_modified ? new Date(`${entry.last_modified}Z`) : new Date() }));
    const prefixes = entries.flatMap((entry) => (entry.subdir !== undefined ? [entry.subdir] : []));
    const last = entries[entries.length - 1];
    return { objects, prefixes, nextMarker: entries.length === pageSize && last ? (last.name ?? last.subdir) : undefined };
  }

  /** The segments of the SLO manifest at `key`; undefined for a plain object or none. */
  private async manifestSegments(key: string): Promise<string[] | undefined> {
    const head = await this.expect({ method: 'HEAD', key }, 200, 404);
    if (head.status !== 200 || (head.headers['x-static-large-object'] ?? '').toLowerCase() !== 'true') return undefined;
    const reply = await this.expect({ method: 'GET', key, query: { 'multipart-manifest': 'get' } }, 200, 404);
    if (reply.status === 404) return undefined;
    const listed = JSON.parse(reply.body.toString('utf8')) as { name: string }[];
    const prefix = `/${this.options.container}/`;
    return listed.map((segment) => (segment.name.startsWith(prefix) ? segment.name.slice(prefix.length) : segment.name));
  }

  /**
   * Who owns an upload's segments once a move copied its manifest: `<prefix>/segment-owners/<upload>`
   * names the destination, written before the copy. Until the move deleted its source both manifests
   * share the segments; if the process dies in between, deleting the source later (the upload purger)
   * must not take the destination's segments with it. No marker: the manifest they were written for.
   */
  private ownerMarker(uploadId: string): string {
    return `${this.ownerRoot}/${uploadId.slice(this.segmentRoot.length + 1)}`;
  }

  /** the segment prefixes (upload ids) of segments */
  private uploadsOf(segments: readonly string[]): string[] {
    return [...new Set(segments.filter((s) => s.startsWith(`${this.segmentRoot}/`)).map((s) => s.slice(0, s.lastIndexOf('/'))))];
  }

  private ownerMarkers(segments: readonly string[]): string[] {
    return this.uploadsOf(segments).map((upload) => this.ownerMarker(upload));
  }

  /** The segments among `segments` that the manifest at `key` owns. */
  private async ownedBy(key: string, segments: readonly string[]): Promise<string[]> {
    const foreign = new Set<string>();
    for (const upload of this.uploadsOf(segments)) {
      const owner = await this.get(this.ownerMarker(upload));
      if (owner !== undefined && owner.toString('utf8') !== key) foreign.add(upload);
    }
    return segments.filter((s) => !s.startsWith(`${this.segmentRoot}/`) || !foreign.has(s.slice(0, s.lastIndexOf('/'))));
  }

  /** Deletes the segments the manifest that was at `key` owned, but the new one there does not use. */
  private async dropReplaced(key: string, replaced: readonly string[] | undefined, kept: ReadonlySet<string>): Promise<void> {
    const unused = (replaced ?? []).filter((segment) => !kept.has(segment));
    if (unused.length === 0) return;
    const owned = await this.ownedBy(key, unused);
    await this.deleteKeys(owned);
    await this.deleteKeys(this.ownerMarkers(owned).filter((marker) => !this.ownerMarkers([...kept]).includes(marker)));
  }

  /**
   * An SLO is copied as its manifest (`multipart-manifest=get`; a plain object as itself), so both share
   * the segments: they are marked as the destination's first (the move deletes the source alone next).
   */
  async copy(sourceKey: string, destKey: string): Promise<void> {
    const replaced = await this.manifestSegments(destKey);
    const moved = (await this.manifestSegments(sourceKey)) ?? [];
    for (const upload of this.uploadsOf(moved)) await this.put(this.ownerMarker(upload), Buffer.from(destKey, 'utf8'));
    await this.expect(
      {
        method: 'PUT',
        key: destKey,
        query: { 'multipart-manifest': 'get' },
        headers: { 'x-copy-from': encodeName(this.qualified(sourceKey)), 'content-length': '0' },
        body: Buffer.alloc(0),
      },
      201,
    );
    await this.dropReplaced(destKey, replaced, new Set(moved));
  }

  /** No request: the upload is a fresh segment prefix; the manifest written on complete makes it an object. */
  async initMultipart(): Promise<MultipartUpload> {
    return { uploadId: `${this.segmentRoot}/${randomBytes(16).toString('hex')}`, partSize: this.options.chunkSize };
  }

  private segmentKey(uploadId: string, index: number): string {
    if (!uploadId.startsWith(`${this.segmentRoot}/`)) throw storageFailed(`swift: upload id ${uploadId} is not a segment prefix of this driver`);
    return `${uploadId}/${String(index + 1).padStart(16, '0')}`;
  }

  /** A segment, checked by Swift against its MD5; its ETag is that MD5. */
  async uploadPart(_key: string, uploadId: string, index: number, data: Buffer): Promise<string> {
    const etag = md5(data);
    await this.expect({ method: 'PUT', key: this.segmentKey(uploadId, index), body: data, headers: { 'content-type': 'application/octet-stream', etag } }, 201);
    return etag;
  }

  /**
   * The SLO manifest over the segments, each with its ETag and size: Swift refuses it (400) if a segment
   * is missing or differs, so a damaged upload never becomes visible. Writing it again is harmless, so a
   * retried complete needs no special case.
   */
  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[]): Promise<void> {
    const replaced = await this.manifestSegments(key);
    const segments = parts.map((_part, index) => this.segmentKey(uploadId, index));
    const manifest = parts.map((part, index) => ({ path: this.qualified(segments[index]!), etag: part.etag, size_bytes: part.size }));
    await this.expect(
      { method: 'PUT', key, query: { 'multipart-manifest': 'put' }, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(JSON.stringify(manifest)) },
      201,
    );
    await this.dropReplaced(key, replaced, new Set(segments));
  }

  /** Deletes every segment under the upload's prefix. */
  async abortMultipart(_key: string, uploadId: string): Promise<void> {
    this.segmentKey(uploadId, 0); // refuses an id that is not one of this driver's segment prefixes
    await this.deleteKeys(await keysUnder(this, `${uploadId}/`));
  }

  /** A TempURL signed for GET (Swift honours a HEAD on it too); none without a key, or when the key does not allow GET. */
  async presign(key: string, _method: 'GET' | 'HEAD', expiresIn: number): Promise<string | undefined> {
    const settings = this.tempUrlSettings;
    if (!settings || !settings.methods.includes('GET')) return undefined;
    const session = await this.sessions.current();
    return tempUrl({
      storageUrl: session.storageUrl,
      objectPath: this.qualified(key),
      method: 'GET',
      key: settings.key,
      expires: Math.floor(Date.now() / 1000) + expiresIn,
      accessKey: this.options.accessKey,
      tenantId: session.tenantId,
    });
  }
}
