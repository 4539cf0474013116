/**
 * The UFile emulator accepts requests shaped exactly as the official Node and Go SDKs send them (recorded
 * in the vendor notes), answers in the JSON they parse, and refuses what the service refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignQuery, ufileAuthorization } from '../../plugins/ufile/src/signing.js';
import { startUFileEmulator, type UFileEmulator, ufileEtag } from './emulator.js';

const BLK = 256 * 1024;
let emulator: UFileEmulator;
beforeAll(async () => { emulator = await startUFileEmulator({ buckets: ['probe-bkt'], blkSize: BLK }); });
afterAll(async () => { await emulator.close(); });

interface Call { query?: string; headers?: Record<string, string>; body?: Buffer | string; privateKey?: string }

/** Sends a request signed over exactly the headers it carries, as the SDKs do. */
function ufetch(method: string, key: string, call: Call = {}): Promise<Response> {
  const headers = { ...(call.headers ?? {}) };
  const authorization = ufileAuthorization(emulator.publicKey, call.privateKey ?? emulator.privateKey, { method, bucket: 'probe-bkt', key, headers });
  const path = key.split('/').map(encodeURIComponent).join('/');
  // A string body would make fetch add a Content-Type of its own, outside the signature.
  const body = typeof call.body === 'string' ? Buffer.from(call.body) : call.body;
  return fetch(`${emulator.url}/${path}${call.query ? `?${call.query}` : ''}`, { method, body, headers: { ...headers, authorization } });
}

describe('UFile emulator with Node SDK shaped requests', () => {
  it('puts (with an X-UCloud header), heads, gets, ranges and deletes', async () => {
    expect((await ufetch('PUT', 'p/hello.txt', { headers: { 'Content-Type': 'text/plain', 'x-ucloud-probe': 'run1' }, body: 'hello, ufile' })).status).toBe(200);
    const head = await ufetch('HEAD', 'p/hello.txt');
    expect(head.headers.get('content-length')).toBe('12');
    expect(head.headers.get('etag')).toBe(`"${ufileEtag(Buffer.from('hello, ufile'))}"`);
    expect(await (await ufetch('GET', 'p/hello.txt')).text()).toBe('hello, ufile');
    const ranged = await ufetch('GET', 'p/hello.txt', { headers: { Range: 'bytes=7-11' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe('bytes 7-11/12');
    expect(await ranged.text()).toBe('ufile');
    expect((await ufetch('GET', 'p/hello.txt', { headers: { Range: 'bytes=12-' } })).status).toBe(416);
    expect((await ufetch('DELETE', 'p/hello.txt')).status).toBe(204);
    const missing = await ufetch('GET', 'p/hello.txt');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ RetCode: expect.any(Number), ErrMsg: expect.any(String) });
  });

  it('runs a multipart upload with BlkSize parts numbered from 0 and newKey, quoted ETags', async () => {
    const init = await ufetch('POST', 'p/multi.bin', { query: 'uploads', headers: { 'Content-Length': '0' } });
    const { UploadId, BlkSize } = (await init.json()) as { UploadId: string; BlkSize: number };
    expect(BlkSize).toBe(BLK);
    const parts = [Buffer.alloc(BLK, 1), Buffer.alloc(BLK, 2), Buffer.from('last')];
    const etags: string[] = [];
    for (const [n, data] of parts.entries()) {
      const res = await ufetch('PUT', 'p/multi.bin', { query: `uploadId=${UploadId}&partNumber=${n}`, headers: { 'Content-Type': 'application/octet-stream' }, body: data });
      expect(res.status).toBe(200);
      etags.push(res.headers.get('etag') ?? '');
    }
    const finish = await ufetch('POST', 'p/multi.bin', { query: `uploadId=${UploadId}&newKey=${encodeURIComponent('p/multi.bin')}`, body: etags.join(',') });
    expect(finish.status).toBe(200);
    expect(emulator.bucket('probe-bkt').get('p/multi.bin')?.data.length).toBe(2 * BLK + 4);
  });

  it('takes the Go SDK form too: sorted query, no newKey, unquoted ETags, signed URL download', async () => {
    const init = await ufetch('POST', 'p/go.bin', { query: 'uploads', headers: { 'Content-Type': 'application/octet-stream' } });
    const { UploadId } = (await init.json()) as { UploadId: string };
    const part = await ufetch('PUT', 'p/go.bin', { query: `partNumber=0&uploadId=${UploadId}`, headers: { 'Content-Type': 'application/octet-stream' }, body: 'only part' });
    const etag = (part.headers.get('etag') ?? '').replace(/"/g, '');
    expect((await ufetch('POST', 'p/go.bin', { query: `uploadId=${UploadId}`, headers: { 'Content-Type': 'application/octet-stream' }, body: etag })).status).toBe(200);
    const signed = presignQuery({ method: 'GET', bucket: 'probe-bkt', key: 'p/go.bin', publicKey: emulator.publicKey, privateKey: emulator.privateKey, expires: Math.floor(Date.now() / 1000) + 60 });
    const download = await fetch(`${emulator.url}/p/go.bin?${new URLSearchParams(signed)}`);
    expect(await download.text()).toBe('only part');
    const expired = presignQuery({ method: 'GET', bucket: 'probe-bkt', key: 'p/go.bin', publicKey: emulator.publicKey, privateKey: emulator.privateKey, expires: 1000 });
    expect((await fetch(`${emulator.url}/p/go.bin?${new URLSearchParams(expired)}`)).status).toBe(403);
  });

  it('refuses parts of the wrong size, 1-based numbering and a wrong ETag at finish', async () => {
    const { UploadId } = (await (await ufetch('POST', 'p/bad.bin', { query: 'uploads' })).json()) as { UploadId: string };
    expect((await ufetch('PUT', 'p/bad.bin', { query: `uploadId=${UploadId}&partNumber=0`, body: Buffer.alloc(BLK + 1) })).status).toBe(400);
    const short = await ufetch('PUT', 'p/bad.bin', { query: `uploadId=${UploadId}&partNumber=1`, body: Buffer.alloc(10) });
    const tail = await ufetch('PUT', 'p/bad.bin', { query: `uploadId=${UploadId}&partNumber=2`, body: Buffer.alloc(10) });
    const missingZero = await ufetch('POST', 'p/bad.bin', { query: `uploadId=${UploadId}`, body: [short, tail].map((r) => r.headers.get('etag')).join(',') });
    expect(missingZero.status).toBe(400);
    expect(((await missingZero.json()) as { ErrMsg: string }).ErrMsg).toContain('part 0');
    const zero = await ufetch('PUT', 'p/bad.bin', { query: `uploadId=${UploadId}&partNumber=0`, body: Buffer.alloc(10) });
    const undersized = await ufetch('POST', 'p/bad.bin', { query: `uploadId=${UploadId}`, body: [zero, short, tail].map((r) => r.headers.get('etag')).join(',') });
    expect(undersized.status).toBe(400);
    expect(((await undersized.json()) as { ErrMsg: string }).ErrMsg).toContain('BlkSize');
    expect((await ufetch('DELETE', 'p/bad.bin', { query: `uploadId=${UploadId}` })).status).toBe(204);
    expect(emulator.openUploads()).toBe(0);
  });

  it('lists one level through ?listobjects and pages with NextMarker', async () => {
    for (const name of ['a', 'b', 'c', 'd/x', 'd/y', 'e/z']) await ufetch('PUT', `l/${name}`, { body: name });
    const seen: string[] = [];
    let marker = '';
    let pages = 0;
    for (;;) {
      const res = await ufetch('GET', '', { query: `listobjects&prefix=l%2F&marker=${encodeURIComponent(marker)}&delimiter=%2F&max-keys=2` });
      const page = (await res.json()) as { IsTruncated: boolean; NextMarker: string; MaxKeys: string; Contents: { Key: string; Size: string }[]; CommonPrefixes: { Prefix: string }[] };
      expect(page.MaxKeys).toBe('2');
      seen.push(...page.Contents.map((c) => c.Key), ...page.CommonPrefixes.map((c) => c.Prefix));
      pages += 1;
      if (!page.IsTruncated) break;
      marker = page.NextMarker;
    }
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(['l/a', 'l/b', 'l/c', 'l/d/', 'l/e/']);
    expect((await ufetch('GET', '', { query: 'listobjects&max-keys=1001' })).status).toBe(400);
  });

  it('answers the older ?list (PrefixFileList) with every key under the prefix, paged by NextMarker', async () => {
    const first = (await (await ufetch('GET', '', { query: 'list&prefix=l%2F&marker=&limit=4' })).json()) as { NextMarker: string; DataSet: { FileName: string; Size: number }[] };
    expect(first.DataSet.map((d) => d.FileName)).toEqual(['l/a', 'l/b', 'l/c', 'l/d/x']);
    expect(first.DataSet[0]!.Size).toBe(1);
    const second = (await (await ufetch('GET', '', { query: `list&prefix=l%2F&marker=${encodeURIComponent(first.NextMarker)}&limit=4` })).json()) as { NextMarker: string; DataSet: { FileName: string }[] };
    expect(second.DataSet.map((d) => d.FileName)).toEqual(['l/d/y', 'l/e/z']);
    expect(second.NextMarker).toBe('');
  });

  it('rejects a wrong signature, a missing one and an unknown public key in UFile JSON', async () => {
    const wrong = await ufetch('PUT', 'p/nope', { body: 'x', privateKey: 'wrong' });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ ErrMsg: 'signature not match' });
    expect(emulator.bucket('probe-bkt').has('p/nope')).toBe(false);
    expect((await fetch(`${emulator.url}/p/nope`)).status).toBe(401);
    const unknown = await fetch(`${emulator.url}/p/nope`, { headers: { authorization: 'UCloud someone-else:abc' } });
    expect(unknown.status).toBe(403);
  });

  it('answers injected faults in UFile JSON, then serves normally', async () => {
    await ufetch('PUT', 'p/f', { body: 'f' });
    emulator.faults.add({ method: 'GET', match: '/p/f', status: 502 });
    const failed = await ufetch('GET', 'p/f');
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ RetCode: -1 });
    expect(await (await ufetch('GET', 'p/f')).text()).toBe('f');
  });
});
