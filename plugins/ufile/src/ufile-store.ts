/** The ObjectStore over UCloud UFile's REST API: UCloud-signed requests, JSON replies, 0-based BlkSize parts. */
import { Readable } from 'node:stream';
import type { DriverLogger } from 'stowage';
import { backendErrorCode, type BufferedReply, HttpObjectStore, type ListPage, type MultipartUpload, type ObjectStore, type OutgoingRequest, type RangeResult, type StoreCall, storageFailed, type UploadedPart } from '@stowage/backend-kit';
import type { ResolvedUFileOptions } from './options.js';
import { presignQuery, ufileAuthorization } from './signing.js';

/** UFile's usual multipart block size; the real one comes with each upload. */
const DEFAULT_BLOCK = 4 * 1024 * 1024;
const DELETE_CONCURRENCY = 8;

/** The query is an already-encoded string without `?`: UFile does not sign it. */
type Call = StoreCall<string>;

const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

interface ListObjectsReply {
  IsTruncated?: boolean;
  NextMarker?: string;
  Contents?: { Key: string; Size: string | number; LastModified?: number }[];
  CommonPrefixes?: { Prefix: string }[];
}

async function* skipBytes(body: Readable, count: number): AsyncGenerator<Buffer> {
  let left = count;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (left >= buffer.length) {
      left -= buffer.length;
      continue;
    }
    yield left > 0 ? buffer.subarray(left) : buffer;
    left = 0;
  }
}

export class UFileStore extends HttpObjectStore<string> implements ObjectStore {
  partSizeHint = DEFAULT_BLOCK;
  readonly serverCopyLimit = 0;

  constructor(private readonly options: ResolvedUFileOptions, logger: DriverLogger) {
    super({ driver: 'ufile', retries: options.retries, retryIntervalMs: options.retryIntervalMs, timeoutMs: options.timeoutMs, logger });
  }

  protected build(call: Call): () => OutgoingRequest {
    return () => {
      const headers: Record<string, string> = { ...(call.headers ?? {}) };
      headers.authorization = ufileAuthorization(this.options.publicKey, this.options.privateKey, {
        method: call.method, bucket: this.options.bucket, key: call.key, headers,
      });
      return { method: call.method, url: `${this.options.origin}/${encodeKey(call.key)}${call.query ? `?${call.query}` : ''}`, headers, body: call.body };
    };
  }

  protected describe(call: Call): string {
    const op = call.query?.split('&')[0]?.split('=')[0];
    return `${call.method} ${call.key || '/'}${op ? ` (${op})` : ''}`;
  }

  protected fail(call: Call, reply: BufferedReply): Error {
    let detail = '';
    try {
      const parsed = JSON.parse(reply.body.toString('utf8')) as { RetCode?: number; ErrMsg?: string };
      // RetCode only: ErrMsg is free text a backend (or a proxy in front of it) may fill with the request
      const retCode = backendErrorCode(parsed.RetCode);
      if (retCode !== undefined) detail = ` RetCode ${retCode}`;
    } catch {
      // a bodiless (HEAD) or non-JSON reply: the status says it all
    }
    const session = backendErrorCode(reply.headers['x-sessionid']);
    return storageFailed(`ufile: ${this.describe(call)} failed: ${reply.status}${detail}${session ? ` [session ${session}]` : ''}`);
  }

  override async getFrom(key: string, offset: number): Promise<RangeResult> {
    const call: Call = offset > 0 ? { method: 'GET', key, headers: { Range: `bytes=${offset}-` } } : { method: 'GET', key };
    const reply = await this.http.open(this.build(call), this.describe(call));
    if (reply.status === 404) return 'not-found';
    if (reply.status === 416) return 'unsatisfiable';
    const length = Number(reply.headers['content-length'] ?? 0);
    const etag = reply.headers.etag;
    if (reply.status === 206 || (reply.status === 200 && offset === 0)) return { body: reply.body as Readable, length, etag };
    if (reply.status === 200) {
      // A server that ignored the range sent the whole object: skip to the offset ourselves.
      const body = reply.body as Readable;
      if (length <= offset) {
        body.on('error', () => undefined).destroy(); // an unread undici body errors on destroy
        return 'unsatisfiable';
      }
      return { body: Readable.from(skipBytes(body, offset)), length: length - offset, etag };
    }
    throw this.fail(call, reply as BufferedReply);
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.expect({ method: 'PUT', key, body, headers: { 'Content-Type': 'application/octet-stream' } }, 200);
  }

  async deleteKeys(keys: readonly string[]): Promise<void> {
    const queue = [...keys];
    const worker = async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) await this.expect({ method: 'DELETE', key }, 204, 200, 404);
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
  }

  async list(prefix: string, delimiter: string, marker: string | undefined, limit: number): Promise<ListPage> {
    const query = `listobjects&prefix=${encodeURIComponent(prefix)}&marker=${encodeURIComponent(marker ?? '')}&delimiter=${encodeURIComponent(delimiter)}&max-keys=${Math.min(limit, 1000)}`;
    const reply = await this.expect({ method: 'GET', key: '', query }, 200);
    let parsed: ListObjectsReply;
    try {
      parsed = JSON.parse(reply.body.toString('utf8')) as ListObjectsReply;
    } catch (err) {
      throw storageFailed('ufile: GET / (listobjects) returned no JSON', err);
    }
    const objects = (parsed.Contents ?? []).map((entry) => ({
      key: entry.Key,
      size: Number(entry.Size),
      modified: new Date(entry.LastModified ? entry.LastModified * 1000 : Date.now()),
    }));
    const prefixes = (parsed.CommonPrefixes ?? []).map((entry) => entry.Prefix);
    return { objects, prefixes, nextMarker: parsed.IsTruncated ? parsed.NextMarker || objects.at(-1)?.key || prefixes.at(-1) : undefined };
  }

  async initMultipart(key: string): Promise<MultipartUpload> {
    const reply = await this.expect({ method: 'POST', key, query: 'uploads' }, 200);
    const parsed = JSON.parse(reply.body.toString('utf8')) as { UploadId?: string; BlkSize?: number };
    if (!parsed.UploadId || !Number.isInteger(parsed.BlkSize) || (parsed.BlkSize ?? 0) <= 0) {
      throw storageFailed(`ufile: POST ${key} (uploads) returned no UploadId or BlkSize`);
    }
    this.partSizeHint = parsed.BlkSize!;
    return { uploadId: parsed.UploadId, partSize: parsed.BlkSize! };
  }

  async uploadPart(key: string, uploadId: string, index: number, data: Buffer): Promise<string> {
    const reply = await this.expect({
      method: 'PUT', key, query: `uploadId=${encodeURIComponent(uploadId)}&partNumber=${index}`,
      headers: { 'Content-Type': 'application/octet-stream' }, body: data,
    }, 200);
    const etag = reply.headers.etag;
    if (!etag) throw storageFailed(`ufile: PUT ${key} (part ${index}) returned no ETag`);
    return etag;
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[], size: number): Promise<void> {
    const call: Call = {
      method: 'POST', key, query: `uploadId=${encodeURIComponent(uploadId)}&newKey=${encodeURIComponent(key)}`,
      body: Buffer.from(parts.map((part) => part.etag).join(',')),
    };
    const reply = await this.send(call);
    if (reply.status === 200) return;
    if (reply.status >= 400 && reply.status < 500 && (await this.head(key))?.size === size) return;
    throw this.fail(call, reply);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.expect({ method: 'DELETE', key, query: `uploadId=${encodeURIComponent(uploadId)}` }, 204, 200, 404);
  }

  presign(key: string, method: 'GET' | 'HEAD', expiresIn: number): string {
    const query = presignQuery({
      method, bucket: this.options.bucket, key, publicKey: this.options.publicKey, privateKey: this.options.privateKey,
      expires: Math.floor(Date.now() / 1000) + expiresIn,
    });
    return `${this.options.origin}/${encodeKey(key)}?${new URLSearchParams(query).toString()}`;
  }
}
