/**
 * Object-level operations on the one container the driver uses: HEAD, PUT with an integrity check,
 * paged listings, SLO manifests, server-side copy and (bulk) delete. Knows nothing of stowage paths.
 */
import { createHash } from 'node:crypto';
import type { DriverLogger } from 'stowage';
import { BackendError, headerValue } from '@stowage/backend-kit';
import { encodeName, type SwiftClient } from './client.js';

export interface ObjectInfo {
  readonly size: number;
  readonly modTime: Date;
  readonly etag: string;
  /** a Static Large Object manifest: its content is the concatenation of its segments */
  readonly slo: boolean;
}

export interface ListingEntry {
  readonly name?: string;
  readonly subdir?: string;
  readonly bytes?: number;
  readonly slo_etag?: string;
  /** ISO time without a zone, in UTC */
  readonly last_modified?: string;
}

export interface SegmentRef {
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

export interface BulkDeleteSupport {
  readonly maxPerRequest: number;
}

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

export class SwiftStore {
  constructor(
    readonly client: SwiftClient,
    readonly container: string,
    private readonly logger: DriverLogger,
    private readonly listPageSize: number,
    public bulkDelete?: BulkDeleteSupport,
  ) {}

  get containerPath(): string {
    return '/' + encodeURIComponent(this.container);
  }

  objectPath(name: string): string {
    return `${this.containerPath}/${encodeName(name)}`;
  }

  /** `/<container>/<name>`, the form SLO manifests and X-Copy-From use */
  qualified(name: string): string {
    return `/${this.container}/${name}`;
  }

  async head(name: string, signal?: AbortSignal): Promise<ObjectInfo | undefined> {
    const response = await this.client.request({ method: 'HEAD', path: this.objectPath(name), accept: [404], signal }, `stat ${name}`);
    if (response.status === 404) return undefined;
    const timestamp = Number(headerValue(response.headers, 'x-timestamp'));
    const modified = headerValue(response.headers, 'last-modified');
    return {
      size: Number(headerValue(response.headers, 'content-length') ?? 0),
      modTime: Number.isFinite(timestamp) && timestamp > 0 ? new Date(timestamp * 1000) : new Date(modified ?? Date.now()),
      etag: (headerValue(response.headers, 'etag') ?? '').replace(/"/g, ''),
      slo: (headerValue(response.headers, 'x-static-large-object') ?? '').toLowerCase() === 'true',
    };
  }

  async get(name: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    const response = await this.client.request({ method: 'GET', path: this.objectPath(name), accept: [404], signal }, `get ${name}`);
    return response.status === 404 ? undefined : response.body;
  }

  /** Swift checks the body against the ETag we send: a body damaged on the way is refused, never stored. */
  async put(name: string, content: Uint8Array, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<string> {
    const etag = md5(content);
    await this.client.request(
      { method: 'PUT', path: this.objectPath(name), headers: { 'content-type': 'application/octet-stream', etag, ...headers }, body: content, signal },
      `put ${name}`,
    );
    return etag;
  }

  /** `If-None-Match: *`: Swift refuses (412) to write over an existing object; false when it did. */
  async putIfAbsent(name: string, content: Uint8Array): Promise<boolean> {
    const response = await this.client.request(
      { method: 'PUT', path: this.objectPath(name), headers: { 'content-type': 'application/octet-stream', etag: md5(content), 'if-none-match': '*' }, body: content, accept: [412] },
      `claim ${name}`,
    );
    return response.status !== 412;
  }

  async putManifest(name: string, segments: readonly SegmentRef[]): Promise<void> {
    const manifest = segments.map((s) => ({ path: this.qualified(s.name), etag: s.etag, size_bytes: s.size }));
    await this.client.request(
      {
        method: 'PUT',
        path: this.objectPath(name),
        query: { 'multipart-manifest': 'put' },
        headers: { 'content-type': 'application/octet-stream' },
        body: JSON.stringify(manifest),
      },
      `put manifest ${name}`,
    );
  }

  /** The segments an SLO manifest lists (undefined when the object is gone). */
  async manifestSegments(name: string, signal?: AbortSignal): Promise<SegmentRef[] | undefined> {
    const response = await this.client.request(
      { method: 'GET', path: this.objectPath(name), query: { 'multipart-manifest': 'get' }, accept: [404], signal },
      `get manifest ${name}`,
    );
    if (response.status === 404) return undefined;
    const prefix = `/${this.container}/`;
    const listed = JSON.parse(response.body.toString('utf8')) as { name: string; hash: string; bytes: number }[];
    return listed.map((s) => ({ name: s.name.startsWith(prefix) ? s.name.slice(prefix.length) : s.name, etag: s.hash, size: s.bytes }));
  }

  /** Server-side copy; an SLO is copied as its manifest, so both share the segments. */
  async copy(source: string, destination: string, sourceIsSlo: boolean, signal?: AbortSignal): Promise<void> {
    await this.client.request(
      {
        method: 'PUT',
        path: this.objectPath(destination),
        query: sourceIsSlo ? { 'multipart-manifest': 'get' } : undefined,
        headers: { 'x-copy-from': encodeName(this.qualified(source)), 'content-length': '0' },
        body: '',
        signal,
      },
      `copy ${source} to ${destination}`,
    );
  }

  /** Pages through the listing (Swift returns at most 10,000 names per request). */
  async *list(prefix: string, delimiter?: string, signal?: AbortSignal): AsyncGenerator<ListingEntry> {
    let marker = '';
    for (;;) {
      const query: Record<string, string> = { format: 'json', prefix, limit: String(this.listPageSize) };
      if (delimiter) query.delimiter = delimiter;
      if (marker) query.marker = marker;
      const response = await this.client.request({ method: 'GET', path: this.containerPath, query, accept: [404], signal }, `list ${prefix}`);
      if (response.status === 404) throw new BackendError(`container ${this.container} does not exist`, 404);
      const page = response.status === 204 ? [] : (JSON.parse(response.body.toString('utf8')) as ListingEntry[]);
      for (const entry of page) yield entry;
      if (page.length < this.listPageSize) return;
      const last = page[page.length - 1]!;
      marker = (last.name ?? last.subdir)!;
    }
  }

  async exists(prefix: string, signal?: AbortSignal): Promise<boolean> {
    const response = await this.client.request(
      { method: 'GET', path: this.containerPath, query: { format: 'json', prefix, limit: '1' }, signal },
      `list ${prefix}`,
    );
    return response.status === 200 && (JSON.parse(response.body.toString('utf8')) as unknown[]).length > 0;
  }

  async deleteOne(name: string, signal?: AbortSignal): Promise<void> {
    await this.client.request({ method: 'DELETE', path: this.objectPath(name), accept: [404], signal }, `delete ${name}`);
  }

  /** Deletes objects, through the bulk middleware when the cluster offers it; missing ones are fine. */
  async deleteMany(names: readonly string[], signal?: AbortSignal): Promise<void> {
    if (names.length === 0) return;
    if (!this.bulkDelete || names.length === 1) {
      for (const name of names) await this.deleteOne(name, signal);
      return;
    }
    for (let start = 0; start < names.length; start += this.bulkDelete.maxPerRequest) {
      const batch = names.slice(start, start + this.bulkDelete.maxPerRequest);
      const response = await this.client.request(
        {
          method: 'POST',
          path: '',
          query: { 'bulk-delete': '' },
          headers: { 'content-type': 'text/plain', accept: 'application/json' },
          body: batch.map((name) => encodeName(this.qualified(name))).join('\n'),
          signal,
        },
        `bulk delete of ${batch.length} objects`,
      );
      const result = JSON.parse(response.body.toString('utf8')) as { 'Response Status'?: string; Errors?: [string, string][] };
      const failures = (result.Errors ?? []).filter(([, status]) => !status.startsWith('404'));
      if (failures.length > 0 || !/^(2\d\d|404)/.test(result['Response Status'] ?? '200')) {
        const status = Number((result['Response Status'] ?? '').slice(0, 3)) || undefined;
        throw new BackendError(
          `bulk delete: ${result['Response Status'] ?? 'no status'}; ${failures.length} failed, first ${failures[0]?.join(' ') ?? '-'}`,
          status,
          status !== undefined && status >= 500,
        );
      }
      this.logger.debug({ count: batch.length }, 'swift bulk delete');
    }
  }
}
