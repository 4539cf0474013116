import { createHash, randomBytes } from 'node:crypto';
import aws4 from 'aws4';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { signHeaders, presignQuery, sha256Hex } from '../../plugins/s3/src/sigv4.js';
import { checkWalk } from './walk-cases.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { readAll, s3Driver, s3Options } from './drivers.js';

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;
let driver: StorageDriver;
let bucket: string;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
  bucket = s3Options(endpoint).bucket;
  driver = await s3Driver(endpoint, { bucket });
});

afterAll(async () => {
  await driver?.close?.();
  await release?.();
});

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('Signature V4 signing', () => {
  it('produces the same Authorization header as the aws4 package for the same request', () => {
    const now = new Date('2026-11-22T12:34:56Z');
    const body = 'hello';
    const credentials = { accessKeyId: 'test:tester', secretAccessKey: 'testing' };
    const reference = aws4.sign(
      {
        host: '127.0.0.1:28080',
        method: 'PUT',
        path: '/bucket/a%20b/c?partNumber=2&uploadId=x%2By',
        service: 's3',
        region: 'us-east-1',
        body,
        headers: { 'content-type': 'application/octet-stream', 'X-Amz-Date': '20261122T123456Z', 'X-Amz-Content-Sha256': sha256Hex(body) },
      },
      credentials,
    );
    const ours = signHeaders(
      {
        method: 'PUT',
        host: '127.0.0.1:28080',
        path: '/bucket/a%20b/c',
        query: { partNumber: '2', uploadId: 'x+y' },
        // aws4 signs the content-length it adds for a body
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
        payloadHash: sha256Hex(body),
      },
      { accessKey: 'test:tester', secretKey: 'testing' },
      'us-east-1',
      now,
    );
    expect(ours.authorization).toBe((reference.headers as Record<string, string>).Authorization);
  });

  it('presigns a GET URL the same way as the aws4 package', () => {
    const now = new Date('2026-11-22T12:34:56Z');
    const query = presignQuery({ method: 'GET', host: 'h:1', path: '/b/k' }, { accessKey: 'AK', secretKey: 'SK' }, 'us-east-1', 600, now);
    const reference = aws4.sign(
      { host: 'h:1', method: 'GET', path: `/b/k?X-Amz-Date=20261122T123456Z&X-Amz-Expires=600`, service: 's3', region: 'us-east-1', signQuery: true },
      { accessKeyId: 'AK', secretAccessKey: 'SK' },
    );
    const referenceSignature = new URL(`http://h:1${reference.path}`).searchParams.get('X-Amz-Signature');
    expect(query['X-Amz-Signature']).toBe(referenceSignature);
  });
});

describe('s3 driver on Swift s3api', () => {
  it('stores small content and reads it back whole and from an offset', async () => {
    await driver.putContent('/small/a', Buffer.from('hello s3'));
    expect(Buffer.from(await driver.getContent('/small/a')).toString()).toBe('hello s3');
    expect((await readAll(await driver.reader('/small/a', 6))).toString()).toBe('s3');
    expect((await readAll(await driver.reader('/small/a', 8))).length).toBe(0);
    await expect(driver.reader('/small/a', 9)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await expect(driver.getContent('/small/missing')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('continues a multipart upload begun by another driver instance and shows nothing before commit', async () => {
    const part1 = randomBytes((5 << 20) + 3000);
    const part2 = randomBytes(2 << 20);
    const part3 = randomBytes(4 << 20);
    const first = await driver.writer('/up/data', false);
    await first.write(part1);
    await first.close();
    await expect(driver.stat('/up/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await driver.list('/up').catch(() => [])).toEqual([]);

    const other = await s3Driver(endpoint, { bucket });
    try {
      const second = await other.writer('/up/data', true);
      expect(second.size).toBe(part1.length);
      await second.write(part2);
      await second.close();
      const third = await other.writer('/up/data', true);
      expect(third.size).toBe(part1.length + part2.length);
      await third.write(part3);
      await third.commit();
      await third.close();
    } finally {
      await other.close?.();
    }
    const whole = Buffer.concat([part1, part2, part3]);
    expect((await driver.stat('/up/data')).size).toBe(whole.length);
    expect(sha(await readAll(await driver.reader('/up/data', 0)))).toBe(sha(whole));
    expect(sha(await readAll(await driver.reader('/up/data', 7_000_000)))).toBe(sha(whole.subarray(7_000_000)));
    expect(await driver.list('/up')).toEqual(['/up/data']);
  });

  it('lists direct children, moves, and deletes recursively without touching a sibling sharing the prefix', async () => {
    await driver.putContent('/tree/a/x', Buffer.from('1'));
    await driver.putContent('/tree/a/sub/y', Buffer.from('2'));
    await driver.putContent('/tree/ab', Buffer.from('3'));
    expect((await driver.list('/tree')).sort()).toEqual(['/tree/a', '/tree/ab']);
    expect((await driver.list('/tree/a')).sort()).toEqual(['/tree/a/sub', '/tree/a/x']);
    expect((await driver.stat('/tree/a')).isDir).toBe(true);
    await driver.move('/tree/a/x', '/tree/moved');
    await expect(driver.stat('/tree/a/x')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await driver.delete('/tree/a');
    await expect(driver.list('/tree/a')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect((await driver.list('/tree')).sort()).toEqual(['/tree/ab', '/tree/moved']);
  });

  it('pages listings longer than one ListObjectsV2 answer', async () => {
    const paged = await s3Driver(endpoint, { bucket, listpagesize: 7 });
    try {
      const names = Array.from({ length: 23 }, (_, i) => `/paged/f${String(i).padStart(2, '0')}`);
      await Promise.all(names.map((name) => paged.putContent(name, Buffer.from(name))));
      expect((await paged.list('/paged')).sort()).toEqual(names);
    } finally {
      await paged.close?.();
    }
  });

  it('moves a large object with a multipart copy', async () => {
    const big = randomBytes((6 << 20) + 17);
    const w = await driver.writer('/copy/src', false);
    await w.write(big);
    await w.commit();
    await w.close();
    const copying = await s3Driver(endpoint, { bucket, multipartcopythresholdsize: 1 << 20, multipartcopychunksize: 5 << 20 });
    try {
      await copying.move('/copy/src', '/copy/dst');
    } finally {
      await copying.close?.();
    }
    expect(sha(await readAll(await driver.reader('/copy/dst', 0)))).toBe(sha(big));
    await expect(driver.stat('/copy/src')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('hands out presigned URLs that S3 accepts for GET and HEAD', async () => {
    await driver.putContent('/signed/blob', Buffer.from('presigned content'));
    const url = await driver.redirectURL!('/signed/blob', { method: 'GET', expiresIn: 60 });
    const got = await request(url!);
    expect(got.statusCode).toBe(200);
    expect(await got.body.text()).toBe('presigned content');
    const head = await request((await driver.redirectURL!('/signed/blob', { method: 'HEAD' }))!, { method: 'HEAD' });
    await head.body.dump();
    expect(head.statusCode).toBe(200);
    const tampered = await request(url!.replace('%2Fblob', '%2Fother').replace('/blob', '/other'));
    await tampered.body.dump();
    expect(tampered.statusCode).toBe(403);
  });

  it('walks depth first in lexical order from one listing per directory, honouring skipDir, stop and startAfter', async () => {
    await checkWalk(driver);
  });
});
