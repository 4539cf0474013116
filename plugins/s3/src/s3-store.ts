/**
 * The ObjectStore over the S3 REST API: SigV4-signed requests on the kit's HttpClient, XML replies.
 * Everything about stowage paths, writers and listings is the kit's ObjectDriver; what is S3's own is
 * here: its error codes worth a retry, ListObjectsV2 paging, copies (one CopyObject up to the
 * threshold, a parallel UploadPartCopy above it, never through this process) and multipart uploads.
 */
import { createHash } from 'node:crypto';
import type { DriverLogger } from 'stowage';
import {
  backendErrorCode,
  BackendError,
  type BufferedReply,
  buildXml,
  HttpObjectStore,
  type ListPage,
  type MultipartUpload,
  type ObjectStore,
  type OutgoingRequest,
  parseXml,
  type StoreCall,
  type UploadedPart,
  xmlChildren,
  xmlText,
} from '@stowage/backend-kit';
import type { ResolvedS3Options } from './options.js';
import { EMPTY_SHA256, encodeKeyPath, presignQuery, sha256Hex, signHeaders, uriEncode } from './sigv4.js';

type Query = Record<string, string>;
type Call = StoreCall<Query>;

/** Error codes S3 answers for a request worth sending again (BadDigest and friends: the body was damaged on the way). */
const RETRIABLE_CODES = new Set(['SlowDown', 'InternalError', 'RequestTimeout', 'BadDigest', 'IncompleteBody', 'XAmzContentSHA256Mismatch', 'ServiceUnavailable']);

const md5Base64 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('base64');

/**
 * S3 may answer 200 with an error document for CopyObject, UploadPartCopy and CompleteMultipartUpload
 * once it has started streaming its reply; stowage's own objects are never sent as XML, so an XML reply
 * is an answer of S3's, not content.
 */
const errorCode = (reply: BufferedReply): string | undefined =>
  reply.status >= 300 || (reply.headers['content-type'] ?? '').includes('xml') ? xmlText(parseXml(reply.body, 'Error'), 'Code') : undefined;

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

export class S3Store extends HttpObjectStore<Query> implements ObjectStore {
  readonly partSizeHint: number;
  /** every copy is the service's: multipart copies above the threshold */
  readonly serverCopyLimit = Number.POSITIVE_INFINITY;
  /** Swift's s3api allows 1000 parts an upload (AWS 10,000): parts grow, so 1000 hold 3750 x chunksize */
  readonly growingParts = true;
  private readonly origin: string;
  private readonly host: string;
  /** whether the service honours `If-None-Match: *` on PUT; false once it answered 501 */
  private conditionalWrites = true;

  constructor(
    private readonly options: ResolvedS3Options,
    logger: DriverLogger,
  ) {
    super({
      driver: 's3',
      retries: options.retries,
      retryIntervalMs: options.retryDelayMs,
      backoff: true,
      timeoutMs: options.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      tls: { rejectUnauthorized: !options.skipVerify },
      logger,
      retriableReply: (reply) => RETRIABLE_CODES.has(errorCode(reply) ?? ''),
    });
    const endpoint = new URL(options.endpoint);
    if (!options.pathStyle) endpoint.hostname = `${options.bucket}.${endpoint.hostname}`;
    this.origin = endpoint.origin;
    this.host = endpoint.host;
    this.partSizeHint = options.chunkSize;
  }

  private path(key: string): string {
    const bucketPart = this.options.pathStyle ? `/${uriEncode(this.options.bucket)}` : '';
    return key === '' ? `${bucketPart}/` : `${bucketPart}/${encodeKeyPath(key)}`;
  }

  private copySource(key: string): string {
    return `/${uriEncode(this.options.bucket)}/${encodeKeyPath(key)}`;
  }

  protected build(call: Call): () => OutgoingRequest {
    return () => {
      const path = this.path(call.key);
      const query = call.query ?? {};
      const body = call.body;
      const payloadHash = body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
      const headers = signHeaders({ method: call.method, host: this.host, path, query, headers: { ...call.headers }, payloadHash }, this.options, this.options.region);
      headers['user-agent'] = this.options.userAgent;
      const search = Object.keys(query).length > 0 ? `?${Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}` : '';
      return { method: call.method, url: `${this.origin}${path}${search}`, headers, body };
    };
  }

  protected describe(call: Call): string {
    const sub = Object.keys(call.query ?? {}).filter((k) => ['uploads', 'uploadId', 'partNumber', 'delete', 'list-type'].includes(k));
    return `${call.method} ${call.key || '/'}${sub.length ? ` (${sub.join(', ')})` : ''}`;
  }

  protected fail(call: Call, reply: BufferedReply): Error {
    const code = backendErrorCode(errorCode(reply));
    return new BackendError(`s3: ${this.describe(call)} failed: ${reply.status}${code ? ` ${code}` : ''}`, reply.status);
  }

  /** Headers every new object (or multipart upload) gets: storage class, encryption, ACL. */
  private creationHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'x-amz-acl': this.options.objectAcl };
    if (this.options.storageClass) headers['x-amz-storage-class'] = this.options.storageClass;
    if (this.options.encrypt) {
      headers['x-amz-server-side-encryption'] = this.options.keyId ? 'aws:kms' : 'AES256';
      if (this.options.keyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = this.options.keyId;
    }
    return headers;
  }

  /** Whether the bucket exists (HEAD Bucket). */
  async bucketExists(): Promise<boolean> {
    const reply = await this.expect({ method: 'HEAD', key: '' }, 200, 404);
    return reply.status === 200;
  }

  async createBucket(): Promise<void> {
    await this.expect({ method: 'PUT', key: '', body: Buffer.alloc(0) }, 200);
  }

  /** Content-MD5 makes the server refuse a body damaged on the way instead of storing it. */
  async put(key: string, body: Buffer): Promise<void> {
    await this.expect({ method: 'PUT', key, body, headers: { ...this.creationHeaders(), 'content-md5': md5Base64(body) } }, 200);
  }

  /**
   * `If-None-Match: *`: S3 refuses (412) to write over an existing object; 409 is AWS's answer to a
   * concurrent conditional write of the same key, which another writer also won.
   */
  async putIfAbsent(key: string, body: Buffer): Promise<boolean | 'unsupported'> {
    if (!this.conditionalWrites) return 'unsupported';
    const reply = await this.expect(
      { method: 'PUT', key, body, headers: { ...this.creationHeaders(), 'content-md5': md5Base64(body), 'if-none-match': '*' } },
      200, 412, 409, 501,
    );
    if (reply.status === 501) {
      // S3-compatible stores without conditional writes (Swift's s3api) say NotImplemented: not asked again.
      this.conditionalWrites = false;
      return 'unsupported';
    }
    return reply.status === 200;
  }

  /** DeleteObjects, 1000 keys a request; missing keys are not errors. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      const body = Buffer.from(buildXml({ Delete: { Quiet: true, Object: batch.map((key) => ({ Key: key })) } }));
      const reply = await this.expect(
        { method: 'POST', key: '', query: { delete: '' }, body, headers: { 'content-type': 'application/xml', 'content-md5': md5Base64(body) } },
        200,
      );
      const errors = xmlChildren(parseXml(reply.body, 'DeleteResult'), 'Error').filter((e) => xmlText(e, 'Code') !== 'NoSuchKey');
      if (errors.length > 0) {
        throw new BackendError(`s3: delete objects: ${errors.length} failed, first ${xmlText(errors[0]!, 'Key')}: ${xmlText(errors[0]!, 'Code')}`);
      }
    }
  }

  /** ListObjectsV2; the page marker is S3's continuation token. */
  async list(prefix: string, delimiter: string, marker: string | undefined, limit: number): Promise<ListPage> {
    const query: Query = { 'list-type': '2', prefix, 'max-keys': String(Math.min(limit, this.options.listPageSize)) };
    if (delimiter) query.delimiter = delimiter;
    if (marker) query['continuation-token'] = marker;
    const reply = await this.expect({ method: 'GET', key: '', query }, 200);
    const result = parseXml(reply.body, 'ListBucketResult');
    const objects = xmlChildren(result, 'Contents').map((entry) => ({
      key: xmlText(entry, 'Key') ?? '',
      size: Number(xmlText(entry, 'Size') ?? 0),
      modified: new Date(xmlText(entry, 'LastModified') ?? Date.now()),
    }));
    const prefixes = xmlChildren(result, 'CommonPrefixes').map((entry) => xmlText(entry, 'Prefix') ?? '');
    const truncated = xmlText(result, 'IsTruncated') === 'true';
    return { objects, prefixes, nextMarker: truncated ? xmlText(result, 'NextContinuationToken') || undefined : undefined };
  }

  async copy(sourceKey: string, destKey: string, size: number): Promise<void> {
    if (size <= this.options.copyThreshold) {
      await this.expect({
        method: 'PUT',
        key: destKey,
        headers: { ...this.creationHeaders(), 'x-amz-copy-source': this.copySource(sourceKey), 'x-amz-metadata-directive': 'REPLACE' },
      }, 200);
      return;
    }
    const { uploadId } = await this.initMultipart(destKey);
    try {
      const chunk = this.options.copyChunkSize;
      const count = Math.ceil(size / chunk);
      const parts = await inParallel(
        this.options.copyConcurrency,
        Array.from({ length: count }, (_, i) => async () => {
          const [start, end] = [i * chunk, Math.min((i + 1) * chunk, size)];
          return { etag: await this.uploadPartCopy(destKey, uploadId, i, sourceKey, start, end), size: end - start };
        }),
      );
      await this.completeMultipart(destKey, uploadId, parts, size);
    } catch (err) {
      await this.abortMultipart(destKey, uploadId).catch(() => undefined);
      throw err;
    }
  }

  private async uploadPartCopy(key: string, uploadId: string, index: number, source: string, start: number, end: number): Promise<string> {
    const reply = await this.expect({
      method: 'PUT',
      key,
      query: { partNumber: String(index + 1), uploadId },
      headers: { 'x-amz-copy-source': this.copySource(source), 'x-amz-copy-source-range': `bytes=${start}-${end - 1}` },
    }, 200);
    const etag = xmlText(parseXml(reply.body, 'CopyPartResult'), 'ETag');
    if (!etag) throw new BackendError(`s3: copy part ${index + 1} of ${key}: no ETag in the answer`);
    return etag;
  }

  async initMultipart(key: string): Promise<MultipartUpload> {
    const reply = await this.expect({ method: 'POST', key, query: { uploads: '' }, headers: this.creationHeaders() }, 200);
    const uploadId = xmlText(parseXml(reply.body, 'InitiateMultipartUploadResult'), 'UploadId');
    if (!uploadId) throw new BackendError(`s3: POST ${key} (uploads) returned no UploadId`);
    return { uploadId, partSize: this.options.chunkSize };
  }

  async uploadPart(key: string, uploadId: string, index: number, data: Buffer): Promise<string> {
    const reply = await this.expect(
      { method: 'PUT', key, query: { partNumber: String(index + 1), uploadId }, headers: { 'content-md5': md5Base64(data) }, body: data },
      200,
    );
    const etag = reply.headers.etag;
    if (!etag) throw new BackendError(`s3: PUT ${key} (part ${index + 1}) returned no ETag`);
    return etag;
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[], size: number): Promise<void> {
    const body = Buffer.from(buildXml({ CompleteMultipartUpload: { Part: parts.map((part, index) => ({ PartNumber: index + 1, ETag: part.etag })) } }));
    const call: Call = { method: 'POST', key, query: { uploadId }, body, headers: { 'content-type': 'application/xml' } };
    const reply = await this.send(call);
    if (reply.status === 200 && errorCode(reply) === undefined) return;
    // A retry after a lost reply finds the upload already completed: the object is there, whole.
    if (reply.status === 404 && errorCode(reply) === 'NoSuchUpload' && (await this.head(key))?.size === size) return;
    throw this.fail(call, reply);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.expect({ method: 'DELETE', key, query: { uploadId } }, 204, 200, 404);
  }

  presign(key: string, method: 'GET' | 'HEAD', expiresIn: number): string {
    const path = this.path(key);
    const query = presignQuery({ method, host: this.host, path }, this.options, this.options.region, expiresIn);
    return `${this.origin}${path}?${Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}`;
  }
}
