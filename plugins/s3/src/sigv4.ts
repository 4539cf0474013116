/**
 * AWS Signature Version 4 for S3: request headers (`Authorization`) and presigned URLs (query string).
 * Written here rather than taken from a package: it is short, has no dependencies, and the tests check
 * it against the `aws4` package and against a real S3 API (Swift's s3api) that verifies signatures.
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
  readonly sessionToken?: string;
}

export interface SignableRequest {
  readonly method: string;
  readonly host: string;
  /** the path as sent, already URI-encoded */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  /** hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
  readonly payloadHash: string;
}

export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Uint8Array | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
export const uriEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const encodeKeyPath = (key: string): string => key.split('/').map(uriEncode).join('/');

export function canonicalQuery(query: Readonly<Record<string, string>>): string {
  return Object.keys(query)
    .map((k) => [uriEncode(k), uriEncode(query[k]!)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export const amzDate = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

function signingKey(secretKey: string, day: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), region), 's3'), 'aws4_request');
}

function canonical(request: SignableRequest, headers: Record<string, string>): { canonicalRequest: string; signedHeaders: string } {
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = String(v).trim().replace(/\s+/g, ' ');
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method,
    request.path || '/',
    canonicalQuery(request.query),
    names.map((n) => `${n}:${lower[n]}\n`).join(''),
    signedHeaders,
    request.payloadHash,
  ].join('\n');
  return { canonicalRequest, signedHeaders };
}

/** The headers to add to the request: host, x-amz-date, x-amz-content-sha256, authorization (and the session token). */
export function signHeaders(request: SignableRequest, credentials: Credentials, region: string, now = new Date()): Record<string, string> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.host,
    'x-amz-date': date,
    'x-amz-content-sha256': request.payloadHash,
  };
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;
  const { canonicalRequest, signedHeaders } = canonical(request, headers);
  const scope = `${day}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = hmac(signingKey(credentials.secretKey, day, region), stringToSign).toString('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKey}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** The query of a presigned URL (only `host` signed, payload unsigned), to append to the object URL. */
export function presignQuery(
  request: Omit<SignableRequest, 'headers' | 'payloadHash' | 'query'>,
  credentials: Credentials,
  region: string,
  expiresIn: number,
  now = new Date(),
): Record<string, string> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const scope = `${day}/${region}/s3/aws4_request`;
  const query: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${credentials.accessKey}/${scope}`,
    'X-Amz-Date': date,
    'X-Amz-Expires': String(expiresIn),
    'X-Amz-SignedHeaders': 'host',
  };
  if (credentials.sessionToken) query['X-Amz-Security-Token'] = credentials.sessionToken;
  const { canonicalRequest } = canonical({ ...request, query, headers: {}, payloadHash: 'UNSIGNED-PAYLOAD' }, { host: request.host });
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, sha256Hex(canonicalRequest)].join('\n');
  query['X-Amz-Signature'] = hmac(signingKey(credentials.secretKey, day, region), stringToSign).toString('hex');
  return query;
}
