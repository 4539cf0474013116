/**
 * Aliyun OSS request signing: signature V1 (HMAC-SHA1, `Authorization: OSS id:sig`) and V4
 * (`OSS4-HMAC-SHA256`), for headers and for presigned URLs. Pure functions over a request
 * description, so that the driver signs with them and the test emulator verifies with them; their
 * agreement with the vendor is checked against the `ali-oss` package in test/oss.
 */
import { createHash, createHmac } from 'node:crypto';

/** A request as the signer sees it. */
export interface OssSignable {
  readonly method: string;
  readonly bucket: string;
  /** the object key, unescaped; '' for bucket-level requests */
  readonly key: string;
  /** every query parameter; null (or '') for a parameter written without a value */
  readonly query: Readonly<Record<string, string | null>>;
  /** request headers; names in any case */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Query parameters OSS counts as sub-resources in V1 signatures; listing parameters such as
 * `prefix` and `marker` are not among them and stay unsigned.
 */
export const OSS_V1_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl', 'append', 'bucketInfo', 'cname', 'comp', 'continuation-token', 'cors', 'delete', 'encryption',
  'endTime', 'img', 'inventory', 'inventoryId', 'lifecycle', 'live', 'location', 'logging', 'objectMeta',
  'partNumber', 'policy', 'position', 'qos', 'referer', 'replication', 'replicationLocation',
  'replicationProgress', 'requestPayment', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'response-content-language', 'response-content-type', 'response-expires',
  'restore', 'security-token', 'sequential', 'startTime', 'stat', 'status', 'style', 'styleName', 'symlink',
  'tagging', 'udf', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'vod', 'website', 'worm',
  'wormExtend', 'wormId', 'x-oss-ac-forward-allow', 'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask',
  'x-oss-ac-vpc-id', 'x-oss-async-process', 'x-oss-process', 'x-oss-request-payer', 'x-oss-traffic-limit',
]);

const OSS_HEADER_PREFIX = 'x-oss-';

function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Map<string, string> {
  const lowered = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) lowered.set(name.toLowerCase(), String(value).trim());
  return lowered;
}

/** Byte-order comparison, as the service sorts (not locale order). */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `/bucket/key` plus the sorted V1 sub-resources (`k` or `k=v`, values raw). */
export function v1CanonicalResource(bucket: string, key: string, query: OssSignable['query']): string {
  const resource = `/${bucket}/${key}`;
  const subresources = Object.keys(query)
    .filter((name) => OSS_V1_SUBRESOURCES.has(name))
    .sort(byCodeUnit)
    .map((name) => {
      const value = query[name];
      return value === null || value === '' ? name : `${name}=${value}`;
    });
  return subresources.length > 0 ? `${resource}?${subresources.join('&')}` : resource;
}

/**
 * The V1 string to sign. The date slot holds `dateSlot` when given (the Expires of a presigned URL),
 * else `x-oss-date` when sent (as ali-oss does), else the `Date` header.
 */
export function v1StringToSign(request: OssSignable, dateSlot?: string): string {
  const headers = lowerCaseHeaders(request.headers);
  const ossHeaders = [...headers.keys()]
    .filter((name) => name.startsWith(OSS_HEADER_PREFIX))
    .sort(byCodeUnit)
    .map((name) => `${name}:${headers.get(name)}`);
  return [
    request.method.toUpperCase(),
    headers.get('content-md5') ?? '',
    headers.get('content-type') ?? '',
    dateSlot ?? headers.get('x-oss-date') ?? headers.get('date') ?? '',
    ...ossHeaders,
    v1CanonicalResource(request.bucket, request.key, request.query),
  ].join('\n');
}

export function v1Signature(accessKeySecret: string, stringToSign: string): string {
  return createHmac('sha1', accessKeySecret).update(stringToSign, 'utf8').digest('base64');
}

export function v1Authorization(accessKeyId: string, accessKeySecret: string, request: OssSignable): string {
  return `OSS ${accessKeyId}:${v1Signature(accessKeySecret, v1StringToSign(request))}`;
}

/** encodeURIComponent plus `!'()*`, the encoding V4 canonical requests use. */
export function v4Encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function v4CanonicalQuery(query: OssSignable['query']): string {
  return Object.keys(query)
    .sort(byCodeUnit)
    .map((name) => {
      const value = query[name];
      return value === null || value === '' ? v4Encode(name) : `${v4Encode(name)}=${v4Encode(value)}`;
    })
    .join('&');
}

export function v4CanonicalRequest(request: OssSignable, additionalHeaders: readonly string[] = []): string {
  const headers = lowerCaseHeaders(request.headers);
  const signed = new Set(additionalHeaders.map((name) => name.toLowerCase()));
  for (const name of headers.keys()) {
    if (name === 'content-type' || name === 'content-md5' || name.startsWith(OSS_HEADER_PREFIX)) signed.add(name);
  }
  const canonicalHeaders = [...signed]
    .sort(byCodeUnit)
    .map((name) => `${name}:${headers.get(name) ?? ''}\n`)
    .join('');
  return [
    request.method.toUpperCase(),
    v4Encode(`/${request.bucket}/${request.key}`).replace(/%2F/g, '/'),
    v4CanonicalQuery(request.query),
    canonicalHeaders,
    [...additionalHeaders].map((name) => name.toLowerCase()).sort(byCodeUnit).join(';'),
    headers.get('x-oss-content-sha256') ?? 'UNSIGNED-PAYLOAD',
  ].join('\n');
}

/** `yyyymmdd/region/oss/aliyun_v4_request`; `region` without the `oss-` prefix. */
export function v4Scope(day: string, region: string): string {
  return `${day}/${region}/oss/aliyun_v4_request`;
}

export function v4StringToSign(region: string, timestamp: string, canonicalRequest: string): string {
  return [
    'OSS4-HMAC-SHA256',
    timestamp,
    v4Scope(timestamp.slice(0, 8), region),
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
}

export function v4Signature(accessKeySecret: string, region: string, stringToSign: string, timestamp: string): string {
  let key: Buffer = createHmac('sha256', `aliyun_v4${accessKeySecret}`).update(timestamp.slice(0, 8)).digest();
  for (const part of [region, 'oss', 'aliyun_v4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
}

/** The V4 Authorization header; the request must carry `x-oss-date` (yyyymmddTHHMMSSZ). */
export function v4Authorization(
  accessKeyId: string,
  accessKeySecret: string,
  region: string,
  request: OssSignable,
  additionalHeaders: readonly string[] = [],
): string {
  const timestamp = lowerCaseHeaders(request.headers).get('x-oss-date') ?? '';
  const stringToSign = v4StringToSign(region, timestamp, v4CanonicalRequest(request, additionalHeaders));
  const additional = additionalHeaders.length > 0
    ? `AdditionalHeaders=${[...additionalHeaders].map((h) => h.toLowerCase()).sort(byCodeUnit).join(';')},`
    : '';
  return `OSS4-HMAC-SHA256 Credential=${accessKeyId}/${v4Scope(timestamp.slice(0, 8), region)},${additional}Signature=${v4Signature(accessKeySecret, region, stringToSign, timestamp)}`;
}

/** RFC 1123, as V1 `x-oss-date` carries it. */
export function v1Date(at: Date): string {
  return at.toUTCString();
}

/** yyyymmddTHHMMSSZ, as V4 `x-oss-date` carries it. */
export function v4Timestamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export interface PresignInput {
  readonly method: 'GET' | 'HEAD';
  readonly bucket: string;
  readonly key: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly expiresIn: number;
  readonly now: Date;
}

/** Query parameters of a V1 presigned URL (`OSSAccessKeyId`, `Expires`, `Signature`). */
export function presignV1Query(input: PresignInput): Record<string, string> {
  const expires = String(Math.floor(input.now.getTime() / 1000) + input.expiresIn);
  const stringToSign = v1StringToSign(
    { method: input.method, bucket: input.bucket, key: input.key, query: {}, headers: {} },
    expires,
  );
  return {
    OSSAccessKeyId: input.accessKeyId,
    Expires: expires,
    Signature: v1Signature(input.accessKeySecret, stringToSign),
  };
}

/** Query parameters of a V4 presigned URL (`x-oss-credential`, …, `x-oss-signature`). */
export function presignV4Query(input: PresignInput & { readonly region: string }): Record<string, string> {
  const timestamp = v4Timestamp(input.now);
  const query: Record<string, string> = {
    'x-oss-credential': `${input.accessKeyId}/${v4Scope(timestamp.slice(0, 8), input.region)}`,
    'x-oss-date': timestamp,
    'x-oss-expires': String(input.expiresIn),
    'x-oss-signature-version': 'OSS4-HMAC-SHA256',
  };
  const canonical = v4CanonicalRequest({ method: input.method, bucket: input.bucket, key: input.key, query, headers: {} });
  const signature = v4Signature(input.accessKeySecret, input.region, v4StringToSign(input.region, timestamp, canonical), timestamp);
  return { ...query, 'x-oss-signature': signature };
}

/** A query string in the given order, values encoded for a URL. */
export function formatQuery(query: Readonly<Record<string, string | null>>): string {
  return Object.entries(query)
    .map(([name, value]) => (value === null ? v4Encode(name) : `${v4Encode(name)}=${v4Encode(value)}`))
    .join('&');
}
