/** The ObjectStore over Aliyun OSS's REST API: signed (V1 or V4) requests, XML replies. */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import type { DriverLogger } from 'stowage';
import {
  backendErrorCode,
  type BufferedReply,
  buildXml,
  HttpObjectStore,
  type ListPage,
  type MultipartUpload,
  type ObjectStore,
  type OutgoingRequest,
  parseXml,
  type RangeResult,
  type StoreCall,
  type UploadedPart,
  storageFailed,
  xmlChildren,
  xmlText,
} from '@stowage/backend-kit';
import type { ResolvedAliOssOptions } from './options.js';
import {
  formatQuery,
  type OssSignable,
  presignV1Query,
  presignV4Query,
  v1Authorization,
  v1Date,
  v4Authorization,
  v4Timestamp,
} from './signing.js';

/** OSS copies objects of at most 1 GB with CopyObject. */
const COPY_LIMIT = 1024 ** 3;

type Query = Record<string, string | null>;

type Call = StoreCall<Query>;

const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');
const md5 = (body: Buffer): string => createHash('md5').update(body).digest('base64');

export class OssStore extends HttpObjectStore<Query> implements ObjectStore {
  readonly partSizeHint: number;
  readonly serverCopyLimit = COPY_LIMIT;

  constructor(private readonly options: ResolvedAliOssOptions, logger: DriverLogger) {
    super({ driver: 'alioss', retries: options.retries, retryIntervalMs: options.retryIntervalMs, timeoutMs: options.timeoutMs, logger });
    this.partSizeHint = options.chunkSize;
  }

  /** A bucket on an IP address or plain `localhost` (an emulator) is addressed by path; otherwise by virtual host. */
  private get pathStyle(): boolean {
    const hostname = this.options.endpointHost.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return isIP(hostname) !== 0 || hostname === 'localhost';
  }

  private url(key: string, query: Query): string {
    const search = Object.keys(query).length > 0 ? `?${formatQuery(query)}` : '';
    const { protocol, endpointHost, bucket } = this.options;
    return this.pathStyle
      ? `${protocol}//${endpointHost}/${bucket}/${encodeKey(key)}${search}`
      : `${protocol}//${bucket}.${endpointHost}/${encodeKey(key)}${search}`;
  }

  protected build(call: Call): () => OutgoingRequest {
    return () => {
      const now = new Date();
      const query = call.query ?? {};
      const headers: Record<string, string> = { ...(call.headers ?? {}) };
      if (call.body && call.body.length > 0) headers['content-md5'] = md5(call.body);
      const request = (): OssSignable => ({ method: call.method, bucket: this.options.bucket, key: call.key, query, headers });
      if (this.options.signatureVersion === 'v4') {
        headers['x-oss-date'] = v4Timestamp(now);
        headers['x-oss-content-sha256'] = 'UNSIGNED-PAYLOAD';
        headers.authorization = v4Authorization(this.options.accessKeyId, this.options.accessKeySecret, this.options.signingRegion!, request());
      } else {
        headers['x-oss-date'] = v1Date(now);
        headers.authorization = v1Authorization(this.options.accessKeyId, this.options.accessKeySecret, request());
      }
      return { method: call.method, url: this.url(call.key, query), headers, body: call.body };
    };
  }

  protected describe(call: Call): string {
    const sub = Object.keys(call.query ?? {}).filter((k) => ['uploads', 'uploadId', 'partNumber', 'delete'].includes(k));
    return `${call.method} ${call.key || '/'}${sub.length ? ` (${sub.join(', ')})` : ''}`;
  }

  protected fail(call: Call, reply: BufferedReply): Error {
    const error = parseXml(reply.body, 'Error');
    // A HEAD has no body: OSS repeats the error document, base64-encoded, in x-oss-err.
    const fromHeader = parseXml(reply.headers['x-oss-err'] ? Buffer.from(reply.headers['x-oss-err'], 'base64') : '', 'Error');
    // the code and request id only: OSS's Message (and anything in front of OSS) can echo the request back
    const code = backendErrorCode(xmlText(error, 'Code') ?? xmlText(fromHeader, 'Code') ?? reply.headers['x-oss-ec']) ?? 'Unknown';
    const requestId = backendErrorCode(reply.headers['x-oss-request-id'] ?? xmlText(error, 'RequestId')) ?? '';
    return storageFailed(`alioss: ${this.describe(call)} failed: ${reply.status} ${code}${requestId ? ` [request ${requestId}]` : ''}`);
  }

  override async getFrom(key: string, offset: number): Promise<RangeResult> {
    // Without x-oss-range-behavior OSS answers an unsatisfiable range with the whole object (200).
    const call: Call = offset > 0
      ? { method: 'GET', key, headers: { range: `bytes=${offset}-`, 'x-oss-range-behavior': 'standard' } }
      : { method: 'GET', key };
    const reply = await this.http.open(this.build(call), this.describe(call));
    if (reply.status === 404) return 'not-found';
    if (reply.status === 416) return 'unsatisfiable';
    if (reply.status === 200 || reply.status === 206) {
      if (offset > 0 && reply.status === 200) {
        (reply.body as Readable).on('error', () => undefined).destroy(); // an unread undici body errors on destroy
        throw storageFailed(`alioss: GET ${key} ignored the range from ${offset}`);
      }
      return { body: reply.body as Readable, length: Number(reply.headers['content-length'] ?? 0), etag: reply.headers.etag };
    }
    throw this.fail(call, reply as BufferedReply);
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.expect({ method: 'PUT', key, body, headers: this.objectHeaders() }, 200);
  }

  /** `x-oss-forbid-overwrite`: OSS refuses (409 FileAlreadyExists) to write over an existing object. */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean> {
    const reply = await this.expect({ method: 'PUT', key, body, headers: { ...this.objectHeaders(), 'x-oss-forbid-overwrite': 'true' } }, 200, 409);
    return reply.status === 200;
  }

  private objectHeaders(): Record<string, string> {
    return {
      'content-type': 'application/octet-stream',
      ...(this.options.encrypt ? { 'x-oss-server-side-encryption': 'AES256' } : {}),
    };
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (keys.length === 1) {
      await this.expect({ method: 'DELETE', key: keys[0]! }, 204, 200, 404);
      return;
    }
    const body = Buffer.from(buildXml({ Delete: { Quiet: true, Object: keys.map((key) => ({ Key: key })) } }));
    await this.expect({ method: 'POST', key: '', query: { delete: null }, body, headers: { 'content-type': 'application/xml' } }, 200);
  }

  async list(prefix: string, delimiter: string, marker: string | undefined, limit: number): Promise<ListPage> {
    const query: Query = { prefix, 'max-keys': String(Math.min(limit, 1000)) };
    if (delimiter) query.delimiter = delimiter;
    if (marker) query.marker = marker;
    const reply = await this.expect({ method: 'GET', key: '', query }, 200);
    const result = parseXml(reply.body, 'ListBucketResult');
    const truncated = xmlText(result, 'IsTruncated') === 'true';
    const objects = xmlChildren(result, 'Contents').map((entry) => ({
      key: xmlText(entry, 'Key') ?? '',
      size: Number(xmlText(entry, 'Size') ?? 0),
      modified: new Date(xmlText(entry, 'LastModified') ?? Date.now()),
    }));
    const prefixes = xmlChildren(result, 'CommonPrefixes').map((entry) => xmlText(entry, 'Prefix') ?? '');
    const next = xmlText(result, 'NextMarker');
    return { objects, prefixes, nextMarker: truncated ? next || objects.at(-1)?.key || prefixes.at(-1) : undefined };
  }

  async copy(sourceKey: string, destKey: string): Promise<void> {
    await this.expect({
      method: 'PUT',
      key: destKey,
      headers: { 'x-oss-copy-source': `/${this.options.bucket}/${encodeURIComponent(sourceKey)}`, ...this.objectHeaders() },
    }, 200);
  }

  async initMultipart(key: string): Promise<MultipartUpload> {
    const reply = await this.expect({ method: 'POST', key, query: { uploads: null }, headers: this.objectHeaders() }, 200);
    const uploadId = xmlText(parseXml(reply.body, 'InitiateMultipartUploadResult'), 'UploadId');
    if (!uploadId) throw storageFailed(`alioss: POST ${key} (uploads) returned no UploadId`);
    return { uploadId, partSize: this.options.chunkSize };
  }

  async uploadPart(key: string, uploadId: string, index: number, data: Buffer): Promise<string> {
    const reply = await this.expect({ method: 'PUT', key, query: { partNumber: String(index + 1), uploadId }, body: data }, 200);
    const etag = reply.headers.etag;
    if (!etag) throw storageFailed(`alioss: PUT ${key} (part ${index + 1}) returned no ETag`);
    return etag;
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[], size: number): Promise<void> {
    const body = Buffer.from(buildXml({ CompleteMultipartUpload: { Part: parts.map((part, index) => ({ PartNumber: index + 1, ETag: part.etag })) } }));
    const call: Call = { method: 'POST', key, query: { uploadId }, body, headers: { 'content-type': 'application/xml' } };
    const reply = await this.send(call);
    if (reply.status === 200) return;
    if (reply.status === 404 && xmlText(parseXml(reply.body, 'Error'), 'Code') === 'NoSuchUpload' && (await this.head(key))?.size === size) return;
    throw this.fail(call, reply);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.expect({ method: 'DELETE', key, query: { uploadId } }, 204, 200, 404);
  }

  presign(key: string, method: 'GET' | 'HEAD', expiresIn: number): string {
    const input = {
      method, bucket: this.options.bucket, key, accessKeyId: this.options.accessKeyId,
      accessKeySecret: this.options.accessKeySecret, expiresIn, now: new Date(),
    };
    const query = this.options.signatureVersion === 'v4'
      ? presignV4Query({ ...input, region: this.options.signingRegion! })
      : presignV1Query(input);
    return this.url(key, query);
  }
}
