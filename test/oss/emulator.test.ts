/**
 * The OSS emulator accepts what the official ali-oss client sends (V1 and V4, header and URL signatures),
 * answers in a form ali-oss parses, and rejects what the service rejects, in the service's error format.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v1Authorization } from '../../plugins/alioss/src/signing.js';
import { type AliOssClient, createAliOssClient } from './ali-oss.js';
import { MIN_PART_SIZE, type OssEmulator, startOssEmulator } from './emulator.js';

let emulator: OssEmulator;
beforeAll(async () => { emulator = await startOssEmulator({ buckets: ['probe-bkt'] }); });
afterAll(async () => { await emulator.close(); });

function client(options: { v4?: boolean; secret?: string; pathStyle?: boolean } = {}): AliOssClient {
  return createAliOssClient({
    accessKeyId: emulator.accessKeyId,
    accessKeySecret: options.secret ?? emulator.accessKeySecret,
    bucket: 'probe-bkt',
    region: 'oss-cn-hangzhou',
    endpoint: options.pathStyle ? `http://localhost:${emulator.port}` : emulator.url,
    authorizationV4: options.v4 ?? false,
    retryMax: 0,
    ...(options.pathStyle ? { sldEnable: true } : {}),
  } as Parameters<typeof createAliOssClient>[0]);
}

let partDir = '';
beforeAll(async () => { partDir = await mkdtemp(path.join(os.tmpdir(), 'oss-parts-')); });
afterAll(async () => { await rm(partDir, { recursive: true, force: true }); });

/** ali-oss uploads parts from a file range. */
async function uploadPartFromFile(oss: AliOssClient, key: string, uploadId: string, n: number, data: Buffer): Promise<{ etag: string }> {
  const file = path.join(partDir, `part-${n}-${data.length}-${Math.random()}`);
  await writeFile(file, data);
  return oss.uploadPart(key, uploadId, n, file, 0, data.length);
}

/** A V1-signed request built with stowage's signer, for requests ali-oss will not send. */
async function signedFetch(method: string, key: string, query: Record<string, string>, body?: string, at = new Date(), extra: Record<string, string> = {}): Promise<Response> {
  const headers = { 'x-oss-date': at.toUTCString(), 'content-type': 'application/xml', ...extra };
  const authorization = v1Authorization(emulator.accessKeyId, emulator.accessKeySecret, { method, bucket: 'probe-bkt', key, query, headers });
  const search = new URLSearchParams(query).toString();
  return fetch(`${emulator.url}/probe-bkt/${encodeURI(key)}${search ? `?${search}` : ''}`, { method, body, headers: { ...headers, authorization } });
}

interface HeadResult { meta: Record<string, string> | null; res: { status: number; headers: Record<string, string> } }
interface ResultWithRes { res: { status: number }; content?: Buffer; objects?: { name: string; size: number }[]; prefixes?: string[]; nextMarker?: string; isTruncated?: boolean }

for (const v4 of [false, true]) {
  describe(`ali-oss (${v4 ? 'V4' : 'V1'}) against the OSS emulator`, () => {
    const p = v4 ? 'v4/' : 'v1/';

    it('puts, heads, gets, ranges and deletes an object', async () => {
      const oss = client({ v4 });
      await oss.put(`${p}hello.txt`, Buffer.from('hello, object storage'), { headers: { 'x-oss-meta-probe': 'yes' } });
      const head = (await oss.head(`${p}hello.txt`)) as ResultWithRes;
      expect(head.res.status).toBe(200);
      expect(((await oss.get(`${p}hello.txt`)) as ResultWithRes).content?.toString()).toBe('hello, object storage');
      const ranged = (await oss.get(`${p}hello.txt`, { headers: { Range: 'bytes=7-12' } })) as ResultWithRes;
      expect(ranged.res.status).toBe(206);
      expect(ranged.content?.toString()).toBe('object');
      await oss.delete(`${p}hello.txt`);
      await expect(oss.get(`${p}hello.txt`)).rejects.toMatchObject({ code: 'NoSuchKey', status: 404 });
      // deleting a missing key is not an error on OSS
      expect(((await oss.delete(`${p}hello.txt`)) as ResultWithRes).res.status).toBe(204);
    });

    it('lists one level with a delimiter and pages with NextMarker', async () => {
      const oss = client({ v4 });
      for (const name of ['a.txt', 'b.txt', 'c.txt', 'sub/x.txt', 'sub/y.txt', 'sub2/z.txt']) await oss.put(`${p}list/${name}`, Buffer.from(name));
      const all = (await oss.list({ prefix: `${p}list/`, delimiter: '/', 'max-keys': 100 })) as ResultWithRes;
      expect(all.objects?.map((o) => o.name)).toEqual([`${p}list/a.txt`, `${p}list/b.txt`, `${p}list/c.txt`]);
      expect(all.prefixes).toEqual([`${p}list/sub/`, `${p}list/sub2/`]);
      const seen: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = (await oss.list({ prefix: `${p}list/`, delimiter: '/', 'max-keys': 2, ...(marker ? { marker } : {}) })) as ResultWithRes;
        seen.push(...(page.objects ?? []).map((o) => o.name), ...(page.prefixes ?? []));
        marker = page.isTruncated ? page.nextMarker : undefined;
        pages += 1;
      } while (marker);
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual([`${p}list/a.txt`, `${p}list/b.txt`, `${p}list/c.txt`, `${p}list/sub/`, `${p}list/sub2/`]);
      await expect(oss.list({ prefix: p, 'max-keys': 1001 })).rejects.toMatchObject({ code: 'InvalidArgument', status: 400 });
    });

    it('lists with ListObjectsV2 and pages with the continuation token (signed as a sub-resource)', async () => {
      const oss = client({ v4 });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = (await oss.listV2({ prefix: `${p}list/`, delimiter: '/', 'max-keys': 2, ...(token ? { 'continuation-token': token } : {}) })) as ResultWithRes & { nextContinuationToken?: string };
        seen.push(...(page.objects ?? []).map((o) => o.name), ...(page.prefixes ?? []));
        token = page.isTruncated ? page.nextContinuationToken : undefined;
        pages += 1;
      } while (token);
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual([`${p}list/a.txt`, `${p}list/b.txt`, `${p}list/c.txt`, `${p}list/sub/`, `${p}list/sub2/`]);
    });

    it('completes a multipart upload and enforces part size and order', async () => {
      const oss = client({ v4 });
      const key = `${p}multi part.bin`;
      const { uploadId } = await oss.initMultipartUpload(key);
      const partA = Buffer.alloc(MIN_PART_SIZE, 1);
      const partB = Buffer.from('tail');
      const upload = (n: number, data: Buffer) => uploadPartFromFile(oss, key, uploadId, n, data);
      const a = await upload(1, partA);
      const b = await upload(2, partB);
      // ali-oss sorts the parts it is given, so the out-of-order list is sent by hand
      const reversed = `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>${b.etag}</ETag></Part><Part><PartNumber>1</PartNumber><ETag>${a.etag}</ETag></Part></CompleteMultipartUpload>`;
      const refused = await signedFetch('POST', key, { uploadId }, reversed);
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('<Code>InvalidPartOrder</Code>');
      await oss.completeMultipartUpload(key, uploadId, [{ number: 1, etag: a.etag }, { number: 2, etag: b.etag }]);
      expect(((await oss.get(key)) as ResultWithRes).content?.length).toBe(MIN_PART_SIZE + 4);

      const small = await oss.initMultipartUpload(`${p}small.bin`);
      const uploadSmall = (n: number, data: Buffer) => uploadPartFromFile(oss, `${p}small.bin`, small.uploadId, n, data);
      const s1 = await uploadSmall(1, Buffer.from('too small'));
      const s2 = await uploadSmall(2, Buffer.from('last'));
      await expect(oss.completeMultipartUpload(`${p}small.bin`, small.uploadId, [{ number: 1, etag: s1.etag }, { number: 2, etag: s2.etag }]))
        .rejects.toMatchObject({ code: 'EntityTooSmall', status: 400 });
      await expect(uploadSmall(0, Buffer.from('x'))).rejects.toMatchObject({ code: 'InvalidArgument' });
      await expect(uploadSmall(10_001, Buffer.from('x'))).rejects.toMatchObject({ code: 'InvalidArgument' });
      await oss.abortMultipartUpload(`${p}small.bin`, small.uploadId);
      await expect(uploadSmall(3, Buffer.from('x'))).rejects.toMatchObject({ code: 'NoSuchUpload', status: 404 });
    });

    it('copies and deletes several objects at once', async () => {
      const oss = client({ v4 });
      await oss.put(`${p}src.bin`, Buffer.from('copy me'));
      await oss.copy(`${p}dst.bin`, `${p}src.bin`);
      expect(((await oss.get(`${p}dst.bin`)) as ResultWithRes).content?.toString()).toBe('copy me');
      await oss.deleteMulti([`${p}src.bin`, `${p}dst.bin`]);
      expect(emulator.bucket('probe-bkt').has(`${p}dst.bin`)).toBe(false);
    });

    it('keeps the metadata and standard headers a PUT sets, and ali-oss head() returns them', async () => {
      const oss = client({ v4 });
      await oss.put(`${p}meta.txt`, Buffer.from('with metadata'), {
        mime: 'text/plain',
        meta: { origin: 'stowage', layer: 'sha256-0' },
        headers: { 'Cache-Control': 'max-age=60', 'Content-Disposition': 'attachment; filename="m.txt"' },
      });
      const head = (await oss.head(`${p}meta.txt`)) as HeadResult;
      expect(head.meta).toEqual({ origin: 'stowage', layer: 'sha256-0' });
      expect(head.res.headers['cache-control']).toBe('max-age=60');
      expect(head.res.headers['content-disposition']).toBe('attachment; filename="m.txt"');
      expect(head.res.headers['content-type']).toBe('text/plain');
      const got = (await oss.get(`${p}meta.txt`)) as ResultWithRes & { res: { headers: Record<string, string> } };
      expect(got.res.headers['x-oss-meta-origin']).toBe('stowage');
    });

    it('gives a completed multipart object the Content-Type and metadata set at initiation', async () => {
      const oss = client({ v4 });
      const key = `${p}typed-multipart.json`;
      const { uploadId } = await oss.initMultipartUpload(key, { mime: 'application/json', meta: { kind: 'manifest' }, headers: { 'Cache-Control': 'no-cache' } });
      const part = await uploadPartFromFile(oss, key, uploadId, 1, Buffer.from('{"a":1}'));
      await oss.completeMultipartUpload(key, uploadId, [{ number: 1, etag: part.etag }]);
      const head = (await oss.head(key)) as HeadResult;
      expect(head.res.headers['content-type']).toBe('application/json');
      expect(head.meta).toEqual({ kind: 'manifest' });
      expect(head.res.headers['cache-control']).toBe('no-cache');
    });

    it('refuses a write with x-oss-forbid-overwrite onto an existing key with 409 FileAlreadyExists, keeping the object', async () => {
      const oss = client({ v4 });
      const key = `${p}once.txt`;
      await oss.put(key, Buffer.from('first'), { headers: { 'x-oss-forbid-overwrite': 'true' } });
      await expect(oss.put(key, Buffer.from('second'), { headers: { 'x-oss-forbid-overwrite': 'true' } }))
        .rejects.toMatchObject({ code: 'FileAlreadyExists', status: 409 });
      const { uploadId } = await oss.initMultipartUpload(`${p}other.txt`);
      const part = await uploadPartFromFile(oss, `${p}other.txt`, uploadId, 1, Buffer.from('third'));
      await oss.put(`${p}other.txt`, Buffer.from('meanwhile'));
      const refused = await signedFetch('POST', `${p}other.txt`, { uploadId },
        `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.etag}</ETag></Part></CompleteMultipartUpload>`,
        new Date(), { 'x-oss-forbid-overwrite': 'true' });
      expect(refused.status).toBe(409);
      expect(((await oss.get(key)) as ResultWithRes).content?.toString()).toBe('first');
      expect(((await oss.get(`${p}other.txt`)) as ResultWithRes).content?.toString()).toBe('meanwhile');
      // without the header, OSS overwrites
      await oss.put(key, Buffer.from('second'));
      expect(((await oss.get(key)) as ResultWithRes).content?.toString()).toBe('second');
    });

    it('rejects a request signed with the wrong secret with SignatureDoesNotMatch', async () => {
      await expect(client({ v4, secret: 'not-the-secret' }).put(`${p}nope.txt`, Buffer.from('x')))
        .rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
      expect(emulator.bucket('probe-bkt').has(`${p}nope.txt`)).toBe(false);
    });
  });
}

describe('presigned URLs on the OSS emulator', () => {
  it('serves a V1 signatureUrl and refuses it once tampered with', async () => {
    const oss = client({ pathStyle: true });
    await oss.put('signed/v1.txt', Buffer.from('signed v1'));
    const url = oss.signatureUrl('signed/v1.txt', { expires: 60 });
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('signed v1');
    const bad = await fetch(url.replace('v1.txt', 'v2.txt'));
    expect(bad.status).toBe(403);
    expect(await bad.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('serves a V4 signatureUrlV4 and refuses it for another key', async () => {
    const oss = client({ pathStyle: true, v4: true });
    await oss.put('signed/v4.txt', Buffer.from('signed v4'));
    const url = await oss.signatureUrlV4('GET', 60, undefined, 'signed/v4.txt');
    const ok = await fetch(url);
    expect(await ok.text()).toBe('signed v4');
    const bad = await fetch(url.replace('v4.txt', 'v5.txt'));
    expect(bad.status).toBe(403);
  });

  it('refuses an expired V1 URL with AccessDenied', async () => {
    const url = new URL(client({ pathStyle: true }).signatureUrl('signed/v1.txt', { expires: 60 }));
    url.searchParams.set('Expires', '1000');
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/<Code>(AccessDenied|SignatureDoesNotMatch)<\/Code>/);
  });
});

describe('OSS emulator rules for unsigned, skewed and faulty requests', () => {
  it('refuses an anonymous request with AccessDenied XML', async () => {
    const res = await fetch(`${emulator.url}/probe-bkt/anything`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });

  it('refuses a correctly signed request dated more than 15 minutes away with RequestTimeTooSkewed', async () => {
    const stale = await signedFetch('GET', 'anything', {}, undefined, new Date(Date.now() - 16 * 60 * 1000));
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('<Code>RequestTimeTooSkewed</Code>');
    const fresh = await signedFetch('GET', 'anything', {}, undefined, new Date(Date.now() - 5 * 60 * 1000));
    expect(await fresh.text()).toContain('<Code>NoSuchKey</Code>');
  });

  it('answers an injected 500 in OSS XML and then serves normally', async () => {
    const oss = client();
    await oss.put('fault.txt', Buffer.from('x'));
    emulator.faults.add({ method: 'GET', match: 'fault.txt', status: 500 });
    await expect(oss.get('fault.txt')).rejects.toMatchObject({ code: 'InternalError', status: 500 });
    expect(((await oss.get('fault.txt')) as ResultWithRes).content?.toString()).toBe('x');
  });

  it('takes fault rules over HTTP', async () => {
    const post = await fetch(`${emulator.url}/__emulator/faults`, { method: 'POST', body: JSON.stringify([{ method: 'HEAD', status: 503 }]) });
    expect(post.status).toBe(204);
    await expect(client().head('fault.txt')).rejects.toMatchObject({ status: 503 });
  });
});
