/**
 * An Aliyun OSS emulator for tests and for anyone who wants to run stowage against "OSS" on a laptop.
 * It keeps objects in memory and enforces the service's rules as documented and as ali-oss relies on them:
 * every request must carry a valid V1 or V4 signature (header or presigned URL; a wrong one gets the XML
 * SignatureDoesNotMatch error), clock skew is limited to 15 minutes, part numbers run 1..10000, all parts
 * but the last are at least 100 KiB, parts complete in ascending order with matching ETags, listings page
 * at most 1000 keys, ranges outside the object are ignored unless `x-oss-range-behavior: standard` asks
 * for 416, and delete of a missing key is 204. Objects keep what their writer set (x-oss-meta-*, Cache-Control,
 * Content-Disposition, Content-Encoding, Content-Language, Expires, and the Content-Type given at
 * InitiateMultipartUpload) and a write with `x-oss-forbid-overwrite: true` onto an existing key is refused
 * with 409 FileAlreadyExists. Signatures are checked by oss-verifier.ts, with ali-oss's signer. Faults are injected through `faults` or `POST /__emulator/faults`.
 *
 * Standalone: `npx tsx test/oss/emulator.ts --port 9000 [--bucket stowage] [--access-key-id ID]
 *   [--access-key-secret SECRET] [--region cn-hangzhou]`
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { type ReceivedRequest, verifyV1Header, verifyV1Query, verifyV4 } from './oss-verifier.js';
import { CONTROL_PREFIX, delayReply, dropReply, FaultInjector, handleControl, type LoggedRequest, parseFlags } from './emulator-faults.js';

export interface OssEmulatorOptions {
  readonly port?: number;
  readonly buckets?: readonly string[];
  readonly accessKeyId?: string;
  readonly accessKeySecret?: string;
  /** V4 signing region, without the `oss-` prefix */
  readonly region?: string;
}

export interface StoredObject {
  readonly data: Buffer;
  readonly etag: string;
  readonly modified: Date;
  readonly contentType: string;
  readonly type: 'Normal' | 'Multipart';
  /** x-oss-server-side-encryption asked for when the object was written */
  readonly encryption?: string;
  /** what the writer set and OSS returns on GET and HEAD: x-oss-meta-*, Cache-Control, Content-Disposition ... */
  readonly stored: Readonly<Record<string, string>>;
}

interface MultipartUpload {
  readonly bucket: string;
  readonly key: string;
  readonly parts: Map<number, { data: Buffer; etag: string }>;
  readonly initiated: Date;
  readonly encryption?: string;
  /** the Content-Type given at initiation, which the completed object gets */
  readonly contentType: string;
  readonly stored: Readonly<Record<string, string>>;
}

export interface OssEmulator {
  readonly url: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly region: string;
  readonly faults: FaultInjector;
  readonly requests: LoggedRequest[];
  /** objects of a bucket by key, for assertions */
  bucket(name: string): Map<string, StoredObject>;
  /** multipart uploads still open */
  openUploads(): number;
  close(): Promise<void>;
}

export const MIN_PART_SIZE = 100 * 1024;
export const MAX_PART_NUMBER = 10_000;
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_COPY_SIZE = 1024 ** 3;

class OssError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly extra: Record<string, string> = {}) {
    super(message);
  }
}

export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function xmlUnescape(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (named[entity]) return named[entity];
    return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10));
  });
}

const md5 = (data: Buffer) => createHash('md5').update(data);

/** Standard headers OSS keeps with an object and returns on GET and HEAD, besides user metadata. */
const KEPT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];

/** What a write (PUT, InitiateMultipartUpload, CopyObject with REPLACE) asks OSS to keep with the object. */
function storedHeaders(req: http.IncomingMessage): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('x-oss-meta-') || KEPT_HEADERS.includes(name)) stored[name] = value;
  }
  return stored;
}

/** `x-oss-forbid-overwrite: true` on a write whose key already holds an object: 409, the object stays. */
function refuseOverwrite(req: http.IncomingMessage, exists: boolean): void {
  if (exists && String(req.headers['x-oss-forbid-overwrite']).toLowerCase() === 'true') {
    throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
  }
}
const quoteEtag = (etag: string) => `"${etag}"`;
const unquote = (etag: string) => etag.trim().replace(/^"|"$/g, '').toUpperCase();

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return 'invalid';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'invalid';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

export async function startOssEmulator(options: OssEmulatorOptions = {}): Promise<OssEmulator> {
  const accessKeyId = options.accessKeyId ?? 'emulator-access-key-id';
  const accessKeySecret = options.accessKeySecret ?? 'emulator-access-key-secret';
  const region = (options.region ?? 'cn-hangzhou').replace(/^oss-/, '');
  const buckets = new Map<string, Map<string, StoredObject>>();
  for (const name of options.buckets ?? ['stowage']) buckets.set(name, new Map());
  const uploads = new Map<string, MultipartUpload>();
  const faults = new FaultInjector();
  const requests: LoggedRequest[] = [];

  function locate(req: http.IncomingMessage, url: URL): { bucket: string; key: string; hostId: string } {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const path = decodeURIComponent(url.pathname);
    for (const name of buckets.keys()) {
      if (host.startsWith(`${name}.`)) return { bucket: name, key: path.slice(1), hostId: host };
    }
    // Path-style addressing (`/bucket/key`), for clients that reach the emulator by IP address.
    const [, bucket = '', ...rest] = path.split('/');
    if (!buckets.has(bucket)) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });
    return { bucket, key: rest.join('/'), hostId: host };
  }

  function authenticate(req: http.IncomingMessage, url: URL, bucket: string, key: string): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    const query: Record<string, string | null> = {};
    for (const [name, value] of url.searchParams) query[name] = value;
    const method = req.method ?? 'GET';
    const received: ReceivedRequest = { method, bucket, key, rawQuery: url.search.slice(1), headers };
    const now = Date.now();
    const mismatch = (stringToSign: string, provided: string) =>
      new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
        StringToSign: stringToSign, SignatureProvided: provided, OSSAccessKeyId: accessKeyId,
      });
    const checkId = (id: string) => {
      if (id !== accessKeyId) throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: id });
    };

    if (query.OSSAccessKeyId !== undefined || query.Signature !== undefined) {
      checkId(query.OSSAccessKeyId ?? '');
      const expires = Number(query.Expires);
      if (!Number.isFinite(expires)) throw new OssError(403, 'AccessDenied', 'Expires must be a unix time in seconds.');
      if (expires * 1000 < now) throw new OssError(403, 'AccessDenied', 'Request has expired.', { Expires: String(expires) });
      const verdict = verifyV1Query(received, accessKeySecret, String(query.Expires), query.Signature ?? '');
      if (!verdict.ok) throw mismatch(verdict.stringToSign, query.Signature ?? '');
      return;
    }
    if (query['x-oss-signature-version'] !== undefined) {
      if (query['x-oss-signature-version'] !== 'OSS4-HMAC-SHA256') throw new OssError(400, 'InvalidArgument', 'Unsupported signature version.');
      const [id = '', day = '', credentialRegion = ''] = (query['x-oss-credential'] ?? '').split('/');
      checkId(id);
      const timestamp = query['x-oss-date'] ?? '';
      const started = parseV4Timestamp(timestamp);
      const expiresIn = Number(query['x-oss-expires']);
      if (started === undefined || !Number.isFinite(expiresIn)) throw new OssError(403, 'AccessDenied', 'Invalid x-oss-date or x-oss-expires.');
      if (started + expiresIn * 1000 < now) throw new OssError(403, 'AccessDenied', 'Request has expired.');
      if (credentialRegion !== region || day !== timestamp.slice(0, 8)) throw new OssError(403, 'SignatureDoesNotMatch', `Invalid credential scope ${day}/${credentialRegion}.`);
      const provided = query['x-oss-signature'] ?? '';
      const additional = (query['x-oss-additional-headers'] ?? '').split(';').filter(Boolean);
      const verdict = verifyV4(received, accessKeySecret, region, timestamp, additional, provided);
      if (!verdict.ok) throw mismatch(verdict.stringToSign, provided);
      return;
    }

    const authorization = headers.authorization;
    if (!authorization) throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    const v1 = /^OSS ([^:]+):(.+)$/.exec(authorization);
    if (v1) {
      checkId(v1[1]!);
      checkSkew(headers['x-oss-date'] ?? headers.date, Date.parse);
      const verdict = verifyV1Header(received, accessKeyId, accessKeySecret, authorization);
      if (!verdict.ok) throw mismatch(verdict.stringToSign, v1[2]!);
      return;
    }
    const v4 = /^OSS4-HMAC-SHA256 Credential=([^,]+),(?:AdditionalHeaders=([^,]*),)?Signature=([0-9a-f]+)$/.exec(authorization);
    if (v4) {
      const [id = '', day = '', credentialRegion = '', product = '', terminator = ''] = v4[1]!.split('/');
      checkId(id);
      const timestamp = headers['x-oss-date'] ?? '';
      checkSkew(timestamp, (value) => parseV4Timestamp(value) ?? NaN);
      if (day !== timestamp.slice(0, 8) || credentialRegion !== region || product !== 'oss' || terminator !== 'aliyun_v4_request') {
        throw new OssError(403, 'SignatureDoesNotMatch', `Invalid credential scope, expected ${timestamp.slice(0, 8)}/${region}/oss/aliyun_v4_request.`);
      }
      const additional = (v4[2] ?? '').split(';').filter(Boolean);
      const verdict = verifyV4(received, accessKeySecret, region, timestamp, additional, v4[3]!);
      if (!verdict.ok) throw mismatch(verdict.stringToSign, v4[3]!);
      return;
    }
    throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid.');

    function checkSkew(value: string | undefined, parse: (value: string) => number): void {
      if (!value) throw new OssError(403, 'AccessDenied', 'Date header or x-oss-date is required.');
      const at = parse(value);
      if (!Number.isFinite(at)) throw new OssError(403, 'AccessDenied', `Invalid date: ${value}`);
      if (Math.abs(at - now) > MAX_SKEW_MS) throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
  }

  function objectsOf(bucket: string): Map<string, StoredObject> {
    return buckets.get(bucket)!;
  }

  async function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function checkMd5(req: http.IncomingMessage, body: Buffer): void {
    const given = req.headers['content-md5'];
    if (typeof given !== 'string') return;
    if (!/^[A-Za-z0-9+/]{22}==$/.test(given)) throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
    if (md5(body).digest('base64') !== given) throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified did not match what we received.');
  }

  function objectHeaders(object: StoredObject): Record<string, string> {
    return {
      etag: quoteEtag(object.etag),
      'last-modified': object.modified.toUTCString(),
      'content-type': object.contentType,
      'accept-ranges': 'bytes',
      'x-oss-object-type': object.type,
      'x-oss-storage-class': 'Standard',
      ...(object.encryption ? { 'x-oss-server-side-encryption': object.encryption } : {}),
      ...object.stored,
    };
  }

  function listObjects(bucket: string, url: URL): string {
    const prefix = url.searchParams.get('prefix') ?? '';
    const delimiter = url.searchParams.get('delimiter') ?? '';
    const v2 = url.searchParams.get('list-type') === '2';
    // V2 pages with an opaque continuation token (here the base64 of the last key) or start-after.
    const token = url.searchParams.get('continuation-token');
    const marker = v2
      ? (token !== null ? Buffer.from(token, 'base64url').toString('utf8') : url.searchParams.get('start-after') ?? '')
      : url.searchParams.get('marker') ?? '';
    const maxKeysParam = url.searchParams.get('max-keys');
    const maxKeys = maxKeysParam === null ? 100 : Number(maxKeysParam);
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) {
      throw new OssError(400, 'InvalidArgument', 'Argument max-keys must be an integer between 1 and 1000.', { ArgumentName: 'max-keys', ArgumentValue: String(maxKeysParam) });
    }
    if (delimiter.length > 1) throw new OssError(400, 'InvalidArgument', 'The delimiter must be a single character.');
    const objects = objectsOf(bucket);
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > marker).sort();
    const contents: string[] = [];
    const prefixes: string[] = [];
    let count = 0;
    let truncated = false;
    let last = '';
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + 1);
        if (common <= marker || prefixes.includes(common)) continue;
        if (count === maxKeys) { truncated = true; break; }
        prefixes.push(common);
        last = common;
      } else {
        if (count === maxKeys) { truncated = true; break; }
        const object = objects.get(key)!;
        contents.push(`<Contents><Key>${xmlEscape(key)}</Key><LastModified>${object.modified.toISOString()}</LastModified><ETag>${xmlEscape(quoteEtag(object.etag))}</ETag><Type>${object.type}</Type><Size>${object.data.length}</Size><StorageClass>Standard</StorageClass><Owner><ID>0022012</ID><DisplayName>0022012</DisplayName></Owner></Contents>`);
        last = key;
      }
      count += 1;
    }
    if (v2) {
      return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>${token !== null ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : ''}<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${xmlEscape(delimiter)}</Delimiter><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : ''}<KeyCount>${count}</KeyCount>${contents.join('')}${prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`).join('')}</ListBucketResult>`;
    }
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><Marker>${xmlEscape(marker)}</Marker><MaxKeys>${maxKeys}</MaxKeys><Delimiter>${xmlEscape(delimiter)}</Delimiter><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextMarker>${xmlEscape(last)}</NextMarker>` : ''}${contents.join('')}${prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`).join('')}</ListBucketResult>`;
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const { bucket, key } = locate(req, url);
    authenticate(req, url, bucket, key);
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const objects = objectsOf(bucket);
    const xml = (status: number, body: string, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/xml', ...headers }).end(body);

    if (key === '') {
      if (method === 'GET' && !q.has('uploads')) return void xml(200, listObjects(bucket, url));
      if (method === 'POST' && q.has('delete')) {
        const body = await readBody(req);
        if (!req.headers['content-md5']) throw new OssError(400, 'InvalidDigest', 'Content-MD5 is required for DeleteMultipleObjects.');
        checkMd5(req, body);
        const text = body.toString('utf8');
        const keys = [...text.matchAll(/<Object>\s*<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
        if (keys.length === 0 || keys.length > 1000) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
        const quiet = /<Quiet>\s*true\s*<\/Quiet>/i.test(text);
        for (const k of keys) objects.delete(k);
        return void xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult>${quiet ? '' : keys.map((k) => `<Deleted><Key>${xmlEscape(k)}</Key></Deleted>`).join('')}</DeleteResult>`);
      }
      throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }

    if (method === 'POST' && q.has('uploads')) {
      await readBody(req);
      const uploadId = randomBytes(16).toString('hex').toUpperCase();
      refuseOverwrite(req, objects.has(key));
      uploads.set(uploadId, {
        bucket, key, parts: new Map(), initiated: new Date(), encryption: encryptionOf(req),
        contentType: req.headers['content-type'] ?? 'application/octet-stream', stored: storedHeaders(req),
      });
      return void xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
    }
    if (q.has('uploadId')) {
      const uploadId = q.get('uploadId') ?? '';
      const upload = uploads.get(uploadId);
      if (!upload || upload.bucket !== bucket || upload.key !== key) {
        await readBody(req);
        throw new OssError(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
      }
      if (method === 'PUT' && q.has('partNumber')) {
        const partNumber = Number(q.get('partNumber'));
        const body = await readBody(req);
        if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
          throw new OssError(400, 'InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}.`, { ArgumentName: 'partNumber', ArgumentValue: String(q.get('partNumber')) });
        }
        checkMd5(req, body);
        const etag = md5(body).digest('hex').toUpperCase();
        upload.parts.set(partNumber, { data: body, etag });
        return void res.writeHead(200, { etag: quoteEtag(etag), 'content-length': '0' }).end();
      }
      if (method === 'POST') {
        const body = await readBody(req);
        checkMd5(req, body);
        const listed = [...body.toString('utf8').matchAll(/<Part>\s*<PartNumber>\s*(\d+)\s*<\/PartNumber>\s*<ETag>([\s\S]*?)<\/ETag>\s*<\/Part>/g)]
          .map((m) => ({ number: Number(m[1]), etag: unquote(xmlUnescape(m[2]!)) }));
        if (listed.length === 0) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
        for (let i = 1; i < listed.length; i += 1) {
          if (listed[i]!.number <= listed[i - 1]!.number) throw new OssError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts list must be specified in order by part number.');
        }
        const pieces: Buffer[] = [];
        listed.forEach((entry, index) => {
          const part = upload.parts.get(entry.number);
          if (!part || part.etag !== entry.etag) {
            throw new OssError(400, 'InvalidPart', 'One or more of the specified parts could not be found or the specified entity tag might not have matched the part\'s entity tag.', { PartNumber: String(entry.number) });
          }
          if (index < listed.length - 1 && part.data.length < MIN_PART_SIZE) {
            throw new OssError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.', { PartNumber: String(entry.number), MinSizeAllowed: String(MIN_PART_SIZE) });
          }
          pieces.push(part.data);
        });
        refuseOverwrite(req, objects.has(key));
        const partDigests = Buffer.concat(listed.map((entry) => Buffer.from(upload.parts.get(entry.number)!.etag, 'hex')));
        const etag = `${md5(partDigests).digest('hex').toUpperCase()}-${listed.length}`;
        objects.set(key, {
          data: Buffer.concat(pieces), etag, modified: new Date(), contentType: upload.contentType, type: 'Multipart',
          encryption: upload.encryption, stored: upload.stored,
        });
        uploads.delete(uploadId);
        return void xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${quoteEtag(etag)}</ETag></CompleteMultipartUploadResult>`, { etag: quoteEtag(etag) });
      }
      if (method === 'DELETE') {
        uploads.delete(uploadId);
        return void res.writeHead(204).end();
      }
      throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }

    switch (method) {
      case 'PUT': {
        const body = await readBody(req);
        const copySource = req.headers['x-oss-copy-source'];
        if (typeof copySource === 'string') {
          const [, sourceBucket = '', ...rest] = decodeURIComponent(copySource).split('/');
          const source = buckets.get(sourceBucket)?.get(rest.join('/'));
          if (!source) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: rest.join('/') });
          if (source.data.length > MAX_COPY_SIZE) throw new OssError(400, 'InvalidArgument', 'CopyObject accepts source objects of at most 1 GB; use UploadPartCopy.');
          refuseOverwrite(req, objects.has(key));
          // COPY (the default) keeps the source's metadata; REPLACE takes the request's.
          const replace = String(req.headers['x-oss-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';
          const copied: StoredObject = replace
            ? { ...source, modified: new Date(), contentType: req.headers['content-type'] ?? source.contentType, stored: storedHeaders(req) }
            : { ...source, modified: new Date() };
          objects.set(key, copied);
          return void xml(200, `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><ETag>${quoteEtag(copied.etag)}</ETag><LastModified>${copied.modified.toISOString()}</LastModified></CopyObjectResult>`);
        }
        checkMd5(req, body);
        refuseOverwrite(req, objects.has(key));
        const object: StoredObject = {
          data: body,
          etag: md5(body).digest('hex').toUpperCase(),
          modified: new Date(),
          contentType: req.headers['content-type'] ?? 'application/octet-stream',
          encryption: encryptionOf(req),
          type: 'Normal',
          stored: storedHeaders(req),
        };
        objects.set(key, object);
        return void res.writeHead(200, { etag: quoteEtag(object.etag), 'content-length': '0' }).end();
      }
      case 'GET':
      case 'HEAD': {
        await readBody(req);
        const object = objects.get(key);
        if (!object) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        const size = object.data.length;
        const range = method === 'GET' ? parseRange(req.headers.range, size) : undefined;
        if (range === 'invalid' && req.headers['x-oss-range-behavior'] === 'standard') {
          throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.', { RangeRequested: String(req.headers.range), ActualObjectSize: String(size) });
        }
        if (range && range !== 'invalid') {
          res.writeHead(206, { ...objectHeaders(object), 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': String(range.end - range.start + 1) });
          return void res.end(object.data.subarray(range.start, range.end + 1));
        }
        res.writeHead(200, { ...objectHeaders(object), 'content-length': String(size) });
        return void res.end(method === 'GET' ? object.data : undefined);
      }
      case 'DELETE':
        await readBody(req);
        objects.delete(key);
        return void res.writeHead(204).end();
      default:
        throw new OssError(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  const server = http.createServer((req, res) => {
    const requestId = randomBytes(12).toString('hex').toUpperCase();
    res.setHeader('x-oss-request-id', requestId);
    res.setHeader('server', 'AliyunOSS');
    const entry: LoggedRequest = { method: req.method ?? '', url: req.url ?? '/', status: 0 };
    res.on('finish', () => { entry.status = res.statusCode; });
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      void handleControl(req, res, faults, requests);
      return;
    }
    requests.push(entry);
    void (async () => {
      try {
        const fault = await faults.apply(req);
        if (fault.kind === 'reset') { req.socket.destroy(); return; }
        if (fault.kind === 'drop-response') dropReply(res);
        if (fault.kind === 'delay-reply') delayReply(res, fault.ms);
        if (fault.kind === 'status') {
          await readBody(req);
          throw new OssError(fault.status, fault.status === 503 ? 'ServiceUnavailable' : 'InternalError', 'Injected fault: please try again.');
        }
        await serve(req, res, url);
      } catch (err) {
        const error = err instanceof OssError ? err : new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
        if (!(err instanceof OssError) && !req.destroyed) console.error('oss emulator:', err);
        if (!req.complete) req.resume();
        const fields = Object.entries(error.extra).map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message><RequestId>${requestId}</RequestId><HostId>${xmlEscape(req.headers.host ?? '')}</HostId>${fields}</Error>`;
        if (res.headersSent) { res.destroy(); return; }
        if (req.method === 'HEAD') {
          res.writeHead(error.status, { 'x-oss-err': Buffer.from(body).toString('base64'), 'x-oss-ec': error.code }).end();
        } else {
          res.writeHead(error.status, { 'content-type': 'application/xml', 'content-length': String(Buffer.byteLength(body)) }).end(body);
        }
      }
    })();
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    accessKeyId,
    accessKeySecret,
    region,
    faults,
    requests,
    bucket: (name) => buckets.get(name) ?? new Map(),
    openUploads: () => uploads.size,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The server-side encryption a write asks for; OSS accepts AES256, KMS and SM4. */
function encryptionOf(req: http.IncomingMessage): string | undefined {
  const asked = req.headers['x-oss-server-side-encryption'];
  if (asked === undefined) return undefined;
  if (asked !== 'AES256' && asked !== 'KMS' && asked !== 'SM4') {
    throw new OssError(400, 'InvalidEncryptionAlgorithmError', 'The encryption method specified is not supported.');
  }
  return asked;
}

function parseV4Timestamp(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseFlags(process.argv.slice(2));
  const emulator = await startOssEmulator({
    port: Number(flags.get('port') ?? 9000),
    buckets: [flags.get('bucket') ?? 'stowage'],
    accessKeyId: flags.get('access-key-id'),
    accessKeySecret: flags.get('access-key-secret'),
    region: flags.get('region'),
  });
  console.log(`OSS emulator on ${emulator.url} (bucket ${flags.get('bucket') ?? 'stowage'}, region ${emulator.region}, access key id ${emulator.accessKeyId})`);
  console.log(`stowage options: { endpoint: "localhost:${emulator.port}", secure: false, region: "oss-${emulator.region}", bucket: ..., accesskeyid: ..., accesskeysecret: ... }`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
