/**
 * stowage's OSS signing against Aliyun's own code: every signature stowage computes must equal the one
 * the official `ali-oss` package computes for the same request, for V1 and V4, headers and URLs.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type OssSignable,
  presignV1Query,
  presignV4Query,
  v1Authorization,
  v1StringToSign,
  v4Authorization,
} from '../../plugins/alioss/src/signing.js';
import { aliSignUtils, createAliOssClient } from './ali-oss.js';

const ID = 'LTAI5tStowageTestId';
const SECRET = 'stowage-test-secret/with+symbols=';
const BUCKET = 'probe-bkt';
const V1_DATE = 'Sun, 22 Nov 2026 07:47:52 GMT';
const V4_DATE = '20261122T074754Z';

interface Case {
  readonly name: string;
  readonly method: string;
  readonly key: string;
  readonly query: Record<string, string | null>;
  readonly headers: Record<string, string>;
}

const cases: Case[] = [
  { name: 'put with metadata and md5', method: 'PUT', key: 'docker/registry/v2/blobs/sha256/ab/abcd/data', query: {},
    headers: { 'Content-Type': 'application/octet-stream', 'Content-MD5': 'JiuQtBXkD/fLcilkPcU/ZQ==', 'x-oss-meta-probe': 'ali-oss' } },
  { name: 'get without content type', method: 'GET', key: 'a/b.txt', query: {}, headers: {} },
  { name: 'head of a key with spaces and unicode', method: 'HEAD', key: 'dir/with blank 名字.txt', query: {}, headers: { 'content-type': 'text/plain' } },
  { name: 'delete', method: 'DELETE', key: 'x', query: {}, headers: {} },
  { name: 'initiate multipart', method: 'POST', key: 'up/data', query: { uploads: null }, headers: { 'Content-Type': 'application/octet-stream' } },
  { name: 'upload part', method: 'PUT', key: 'up/data', query: { partNumber: '3', uploadId: '0004B9894A22E5B1888A1E29F823****' }, headers: {} },
  { name: 'complete multipart', method: 'POST', key: 'up/data', query: { uploadId: 'abc' }, headers: { 'content-type': 'application/xml', 'content-md5': 'rmIOk+DcfecRNsdz6yluWQ==' } },
  { name: 'abort multipart', method: 'DELETE', key: 'up/data', query: { uploadId: 'abc' }, headers: {} },
  { name: 'copy with several x-oss headers in mixed case', method: 'PUT', key: 'dst',
    query: {}, headers: { 'X-OSS-Copy-Source': '/probe-bkt/src%2Fkey', 'x-oss-metadata-directive': 'COPY', 'X-Oss-Meta-B': ' two ', 'x-oss-meta-a': 'one' } },
  { name: 'list objects (listing parameters are not sub-resources)', method: 'GET', key: '',
    query: { prefix: 'docker/registry/', delimiter: '/', marker: 'docker/registry/v2/a', 'max-keys': '1000' }, headers: {} },
  { name: 'list objects v2 with a continuation token', method: 'GET', key: '',
    query: { 'list-type': '2', 'continuation-token': 'ChR0ZXN0', 'max-keys': '2' }, headers: {} },
  { name: 'delete multiple', method: 'POST', key: '', query: { delete: null }, headers: { 'Content-Type': 'application/xml', 'Content-MD5': 'abc==' } },
  { name: 'server-side encryption header', method: 'PUT', key: 'enc', query: {}, headers: { 'x-oss-server-side-encryption': 'AES256', 'Content-Type': 'application/octet-stream' } },
];

/** ali-oss signs what its caller passes as `subres`; the service signs its whitelisted sub-resources. */
const SUBRESOURCES = new Set(['uploads', 'uploadId', 'partNumber', 'delete', 'continuation-token']);
const subres = (query: Record<string, string | null>): Record<string, string | null> =>
  Object.fromEntries(Object.entries(query).filter(([name]) => SUBRESOURCES.has(name)));

describe('OSS signature V1 agrees with ali-oss', () => {
  for (const c of cases) {
    it(`signs "${c.name}" as ali-oss does`, () => {
      const headers = { ...c.headers, 'x-oss-date': V1_DATE };
      const request: OssSignable = { method: c.method, bucket: BUCKET, key: c.key, query: c.query, headers };
      const canonical = aliSignUtils.buildCanonicalString(c.method, `/${BUCKET}/${c.key}`, { headers, parameters: subres(c.query) });
      expect(v1StringToSign(request)).toBe(canonical);
      expect(v1Authorization(ID, SECRET, request)).toBe(aliSignUtils.authorization(ID, SECRET, canonical));
    });
  }

  it('uses the Date header in the date slot when no x-oss-date is sent', () => {
    const headers = { Date: V1_DATE, 'Content-Type': 'text/plain' };
    const canonical = aliSignUtils.buildCanonicalString('GET', `/${BUCKET}/k`, { headers: { ...headers, 'x-oss-date': V1_DATE } });
    expect(v1StringToSign({ method: 'GET', bucket: BUCKET, key: 'k', query: {}, headers })).toBe(canonical.replace(`x-oss-date:${V1_DATE}\n`, ''));
  });

  it('changes when the secret is wrong', () => {
    const request: OssSignable = { method: 'GET', bucket: BUCKET, key: 'k', query: {}, headers: { 'x-oss-date': V1_DATE } };
    expect(v1Authorization(ID, `${SECRET}x`, request)).not.toBe(v1Authorization(ID, SECRET, request));
  });
});

describe('OSS signature V4 agrees with ali-oss', () => {
  for (const region of ['cn-hangzhou', 'ap-southeast-1']) {
    for (const c of cases) {
      it(`signs "${c.name}" in ${region} as ali-oss does`, () => {
        const headers = { ...c.headers, 'x-oss-date': V4_DATE, 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD' };
        const request: OssSignable = { method: c.method, bucket: BUCKET, key: c.key, query: c.query, headers };
        const lowered = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
        const expected = aliSignUtils.authorizationV4(ID, SECRET, region, c.method, { headers: lowered, queries: c.query }, BUCKET, c.key || undefined);
        expect(v4Authorization(ID, SECRET, region, request)).toBe(expected);
      });
    }
  }

  it('signs additional headers as ali-oss does', () => {
    const headers = { 'x-oss-date': V4_DATE, 'x-oss-content-sha256': 'UNSIGNED-PAYLOAD', host: 'probe-bkt.oss-cn-hangzhou.aliyuncs.com', range: 'bytes=0-9' };
    const request: OssSignable = { method: 'GET', bucket: BUCKET, key: 'k', query: {}, headers };
    expect(v4Authorization(ID, SECRET, 'cn-hangzhou', request, ['range', 'host'])).toBe(
      aliSignUtils.authorizationV4(ID, SECRET, 'cn-hangzhou', 'GET', { headers, queries: {} }, BUCKET, 'k', ['range', 'host']),
    );
  });
});

describe('OSS presigned URLs agree with ali-oss', () => {
  const client = (authorizationV4: boolean) =>
    createAliOssClient({ accessKeyId: ID, accessKeySecret: SECRET, bucket: BUCKET, region: 'oss-cn-hangzhou', endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', authorizationV4 });

  for (const method of ['GET', 'HEAD'] as const) {
    it(`signs a V1 ${method} URL as ali-oss signatureUrl does`, () => {
      const url = new URL(client(false).signatureUrl('docker/registry/v2/blobs/sha256/ab/abcd/data', { expires: 1200, method }));
      const expires = Number(url.searchParams.get('Expires'));
      const ours = presignV1Query({
        method, bucket: BUCKET, key: 'docker/registry/v2/blobs/sha256/ab/abcd/data', accessKeyId: ID, accessKeySecret: SECRET,
        expiresIn: 1200, now: new Date((expires - 1200) * 1000),
      });
      expect(ours).toEqual({ OSSAccessKeyId: ID, Expires: String(expires), Signature: url.searchParams.get('Signature') });
    });

    it(`signs a V4 ${method} URL as ali-oss signatureUrlV4 does`, async () => {
      const url = new URL(await client(true).signatureUrlV4(method, 900, undefined, 'dir/with blank.bin'));
      const stamp = url.searchParams.get('x-oss-date') ?? '';
      const now = new Date(Date.UTC(+stamp.slice(0, 4), +stamp.slice(4, 6) - 1, +stamp.slice(6, 8), +stamp.slice(9, 11), +stamp.slice(11, 13), +stamp.slice(13, 15)));
      const ours = presignV4Query({
        method, bucket: BUCKET, key: 'dir/with blank.bin', accessKeyId: ID, accessKeySecret: SECRET, expiresIn: 900, now, region: 'cn-hangzhou',
      });
      expect(ours).toEqual(Object.fromEntries(url.searchParams.entries()));
    });
  }
});

/** Every request the real ali-oss client sends, re-signed by stowage from what arrived on the wire. */
describe('requests sent by the ali-oss client carry the signatures stowage computes', () => {
  interface Seen { method: string; path: string; query: Record<string, string | null>; headers: Record<string, string> }
  const seen: Seen[] = [];
  let server: http.Server;
  let endpoint = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const query: Record<string, string | null> = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      seen.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname), query, headers });
      req.resume();
      req.on('end', () => {
        if (req.method === 'POST' && 'uploads' in query) {
          res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><InitiateMultipartUploadResult><UploadId>UP1</UploadId></InitiateMultipartUploadResult>');
        } else if (req.method === 'DELETE') {
          res.writeHead(204).end();
        } else if (req.method === 'GET' && url.pathname === '/') {
          res.writeHead(200, { 'content-type': 'application/xml' }).end('<?xml version="1.0"?><ListBucketResult><Name>probe-bkt</Name><IsTruncated>false</IsTruncated></ListBucketResult>');
        } else {
          res.writeHead(200, { etag: '"0123456789ABCDEF0123456789ABCDEF"', 'content-length': '0' }).end();
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const v4 of [false, true]) {
    it(`re-signs every ${v4 ? 'V4' : 'V1'} request of a put/get/list/multipart/copy/delete session to the same Authorization`, async () => {
      seen.length = 0;
      // An IP endpoint makes ali-oss use path-free virtual hosting with the bucket in Host, so the wire path is the key.
      const client = createAliOssClient({ accessKeyId: ID, accessKeySecret: SECRET, bucket: BUCKET, endpoint, region: 'oss-cn-hangzhou', authorizationV4: v4, retryMax: 0 });
      const attempt = async (op: () => Promise<unknown>) => { try { await op(); } catch { /* only the request matters here */ } };
      await attempt(() => client.put('dir/hello.txt', Buffer.from('hello world'), { headers: { 'x-oss-meta-probe': 'ali-oss' } }));
      await attempt(() => client.head('dir/hello.txt'));
      await attempt(() => client.get('dir/hello.txt', { headers: { Range: 'bytes=2-9' } }));
      await attempt(() => client.list({ prefix: 'dir/', delimiter: '/', 'max-keys': 100, marker: 'dir/a' }));
      await attempt(() => client.listV2({ prefix: 'dir/', 'max-keys': 2, 'continuation-token': 'tok' }));
      await attempt(() => client.initMultipartUpload('dir/multi part.bin'));
      await attempt(() => client.completeMultipartUpload('dir/multi part.bin', 'UP1', [{ number: 1, etag: '"A"' }, { number: 2, etag: '"B"' }]));
      await attempt(() => client.abortMultipartUpload('dir/multi part.bin', 'UP1'));
      await attempt(() => client.copy('dir/copy.txt', 'dir/hello.txt'));
      await attempt(() => client.deleteMulti(['dir/a', 'dir/b']));
      await attempt(() => client.delete('dir/hello.txt'));
      expect(seen.length).toBeGreaterThanOrEqual(11);
      for (const request of seen) {
        const signable: OssSignable = { method: request.method, bucket: BUCKET, key: request.path.slice(1), query: request.query, headers: request.headers };
        const ours = v4
          ? v4Authorization(ID, SECRET, 'cn-hangzhou', signable)
          : v1Authorization(ID, SECRET, signable);
        expect({ request: `${request.method} ${request.path}`, authorization: ours }).toEqual({
          request: `${request.method} ${request.path}`,
          authorization: request.headers.authorization,
        });
      }
    });
  }
});
