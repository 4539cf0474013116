import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { checkWalk } from './walk-cases.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { containerOf, driverContext, readAll, recordingLogger, swiftDriver } from './drivers.js';

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;
let driver: StorageDriver;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
  driver = await swiftDriver(endpoint);
});

afterAll(async () => {
  await driver?.close?.();
  await release?.();
});


async function token(): Promise<string> {
  const response = await request(endpoint.authUrl, { headers: { 'x-auth-user': endpoint.user, 'x-auth-key': endpoint.key } });
  await response.body.dump();
  return String(response.headers['x-auth-token']);
}

async function countObjects(container: string, prefix: string): Promise<number> {
  const response = await request(`${endpoint.storageUrl}/${container}?format=json&prefix=${encodeURIComponent(prefix)}`, { headers: { 'x-auth-token': await token() } });
  return response.statusCode === 204 ? (await response.body.dump(), 0) : ((await response.body.json()) as unknown[]).length;
}

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** tempauth keeps tokens only in memcached (key: md5 of AUTH_/token/<token>): deleting it there is an expiry. */
async function forgetToken(token: string): Promise<void> {
  const key = createHash('md5').update(`AUTH_/token/${token}`).digest('hex');
  const socket = connect(endpoint.memcachedPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`delete ${key}\r\n`);
  const [reply] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  expect(reply.toString()).toBe('DELETED\r\n');
}

describe('swift driver on a real Swift', () => {
  it('stores small content and reads it back whole and from an offset', async () => {
    await driver.putContent('/small/a', Buffer.from('hello swift'));
    expect(Buffer.from(await driver.getContent('/small/a')).toString()).toBe('hello swift');
    expect((await readAll(await driver.reader('/small/a', 6))).toString()).toBe('swift');
    expect((await readAll(await driver.reader('/small/a', 11))).length).toBe(0);
    await expect(driver.reader('/small/a', 12)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
    await expect(driver.getContent('/small/missing')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('keeps an upload invisible until commit, across a close and a reopen by another driver instance', async () => {
    const part1 = randomBytes((1 << 20) + 12345);
    const part2 = randomBytes(700_000);
    const first = await driver.writer('/up/data', false);
    await first.write(part1);
    await first.close();
    await expect(driver.stat('/up/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });

    const other = await swiftDriver(endpoint, { container: containerOf(driver) });
    try {
      const second = await other.writer('/up/data', true);
      expect(second.size).toBe(part1.length);
      await second.write(part2);
      await second.commit();
      await second.close();
    } finally {
      await other.close?.();
    }
    const whole = Buffer.concat([part1, part2]);
    expect((await driver.stat('/up/data')).size).toBe(whole.length);
    expect(sha(await readAll(await driver.reader('/up/data', 0)))).toBe(sha(whole));
    const tail = await readAll(await driver.reader('/up/data', (1 << 20) - 5));
    expect(sha(tail)).toBe(sha(whole.subarray((1 << 20) - 5)));
  });

  it('answers uploadSize from the saved upload alone, and sends no request once the caller went away', async () => {
    const writer = await driver.writer('/sized/data', false);
    await writer.write(randomBytes((1 << 20) + 777));
    await writer.close();
    expect(await driver.uploadSize('/sized/data')).toBe((1 << 20) + 777);
    // a status read writes nothing: the upload's sidecars are as the writer left them (one claim, one state, one tail)
    expect(await countObjects(containerOf(driver), 'files/sized/data~claim.')).toBe(1);
    expect(await countObjects(containerOf(driver), 'files/sized/data~')).toBe(3);
    await expect(driver.uploadSize('/sized/none')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });

    await driver.putContent('/sized/whole', Buffer.from('abc'));
    const gone = new AbortController();
    gone.abort(new Error('client went away'));
    await expect(driver.reader('/sized/whole', 0, gone.signal)).rejects.toThrow('client went away');
    await expect(driver.delete('/sized/whole', gone.signal)).rejects.toThrow('client went away');
    await expect(driver.uploadSize('/sized/data', gone.signal)).rejects.toThrow('client went away');
    // the aborted calls changed nothing
    expect(Buffer.from(await driver.getContent('/sized/whole')).toString()).toBe('abc');
    expect(await driver.uploadSize('/sized/data')).toBe((1 << 20) + 777);
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
    await expect(driver.delete('/tree/nothing')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('authenticates again and carries on when Swift forgets its token', async () => {
    const logger = recordingLogger();
    const renewing = await swiftDriver(endpoint, {}, driverContext('swift', logger));
    try {
      await renewing.putContent('/renew/a', Buffer.from('before'));
      const sessions = (renewing as unknown as { store: { sessions: { current(): Promise<{ token: string }> } } }).store.sessions;
      const stale = (await sessions.current()).token;
      await forgetToken(stale);
      const check = await request(`${endpoint.storageUrl}`, { headers: { 'x-auth-token': stale } });
      await check.body.dump();
      expect(check.statusCode).toBe(401);

      expect(Buffer.from(await renewing.getContent('/renew/a')).toString()).toBe('before');
      expect((await sessions.current()).token).not.toBe(stale);
      expect(logger.lines.some((line) => line.msg?.includes('authenticating again'))).toBe(true);
    } finally {
      await renewing.close?.();
    }
  });

  it('redirects through TempURLs that Swift honours without a token, and refuses when tampered with', async () => {
    const signing = await swiftDriver(endpoint, { container: containerOf(driver), secretkey: 'tempurl-test-key' });
    try {
      await signing.putContent('/temp/blob', Buffer.from('served by swift'));
      const url = await signing.redirectURL!('/temp/blob', { method: 'GET', expiresIn: 60 });
      expect(url).toMatch(/temp_url_sig=[0-9a-f]{64}&temp_url_expires=\d+$/);
      const got = await request(url!);
      expect(got.statusCode).toBe(200);
      expect(await got.body.text()).toBe('served by swift');
      const head = await request((await signing.redirectURL!('/temp/blob', { method: 'HEAD' }))!, { method: 'HEAD' });
      await head.body.dump();
      expect(head.statusCode).toBe(200);
      const tampered = await request(url!.replace('/temp/blob', '/temp/other'));
      await tampered.body.dump();
      expect(tampered.statusCode).toBe(401);
      expect(await driver.redirectURL!('/temp/blob', { method: 'GET' })).toBeUndefined();
    } finally {
      await signing.close?.();
    }
  });

  it('pages listings past the page size with prefix and delimiter', async () => {
    const paged = await swiftDriver(endpoint, { container: containerOf(driver), listpagesize: 5 });
    try {
      const names = Array.from({ length: 23 }, (_, i) => `/paged/d${i % 3}/f${String(i).padStart(2, '0')}`);
      await Promise.all(names.map((name) => paged.putContent(name, Buffer.from(name))));
      await paged.putContent('/pagedsibling', Buffer.from('not a child'));
      expect((await paged.list('/paged')).sort()).toEqual(['/paged/d0', '/paged/d1', '/paged/d2']);
      expect((await paged.list('/paged/d1')).sort()).toEqual(names.filter((n) => n.startsWith('/paged/d1/')).sort());
      await paged.delete('/paged');
      await expect(paged.list('/paged')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      expect(Buffer.from(await paged.getContent('/pagedsibling')).toString()).toBe('not a child');
    } finally {
      await paged.close?.();
    }
  });

  it('deletes a tree of large objects with their segments, and an unfinished upload in it with bulk delete', async () => {
    const logger = recordingLogger();
    const bulk = await swiftDriver(endpoint, { container: containerOf(driver) }, driverContext('swift', logger));
    try {
      for (const name of ['/bulk/a/one', '/bulk/a/two', '/bulk/b/three']) {
        const writer = await bulk.writer(name, false);
        await writer.write(randomBytes((1 << 20) + 10));
        await writer.commit();
        await writer.close();
      }
      const unfinished = await bulk.writer('/bulk/b/unfinished', false);
      await unfinished.write(randomBytes((3 << 20) + 10));
      await unfinished.close();
      const segmentsBefore = await countObjects(containerOf(driver), 'segments/');
      await bulk.delete('/bulk');
      expect(logger.lines.some((line) => line.msg === 'swift bulk delete')).toBe(true);
      await expect(bulk.stat('/bulk')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      // two segments for each committed object, three full ones for the unfinished upload
      expect(segmentsBefore - (await countObjects(containerOf(driver), 'segments/'))).toBe(9);
      expect(await countObjects(containerOf(driver), 'files/bulk')).toBe(0);
    } finally {
      await bulk.close?.();
    }
  });

  it('creates its container when missing, and refuses to start without it when told not to create it', async () => {
    const fresh = await swiftDriver(endpoint);
    await fresh.close?.();
    const head = await request(`${endpoint.storageUrl}/${containerOf(fresh)}`, { method: 'HEAD', headers: { 'x-auth-token': await token() } });
    await head.body.dump();
    expect(head.statusCode).toBe(204);
    await expect(swiftDriver(endpoint, { container: 'never-created-here', createcontainer: false })).rejects.toThrow(/does not exist/);
  });

  it('keeps a chunked upload of many small appends in few full segments', async () => {
    const pieces = Array.from({ length: 40 }, () => randomBytes(100_000));
    for (const [i, piece] of pieces.entries()) {
      const writer = await driver.writer('/many/data', i > 0);
      await writer.write(piece);
      if (i === pieces.length - 1) await writer.commit();
      await writer.close();
    }
    const whole = Buffer.concat(pieces);
    expect(sha(await readAll(await driver.reader('/many/data', 0)))).toBe(sha(whole));
    const manifest = await request(`${endpoint.storageUrl}/${containerOf(driver)}/files/many/data?multipart-manifest=get`, { headers: { 'x-auth-token': await token() } });
    const segments = (await manifest.body.json()) as { bytes: number }[];
    expect(segments.map((s) => s.bytes)).toEqual([1 << 20, 1 << 20, 1 << 20, whole.length - 3 * (1 << 20)]);
  });

  it('appends to committed content, small or segmented, and commits the longer object', async () => {
    await driver.putContent('/append/small', Buffer.from('abc'));
    const small = await driver.writer('/append/small', true);
    expect(small.size).toBe(3);
    await small.write(Buffer.from('def'));
    await small.commit();
    await small.close();
    expect(Buffer.from(await driver.getContent('/append/small')).toString()).toBe('abcdef');

    const first = randomBytes((2 << 20) + 7);
    const more = randomBytes(1234);
    const w1 = await driver.writer('/append/large', false);
    await w1.write(first);
    await w1.commit();
    await w1.close();
    const w2 = await driver.writer('/append/large', true);
    await w2.write(more);
    await w2.commit();
    await w2.close();
    expect(sha(await readAll(await driver.reader('/append/large', 0)))).toBe(sha(Buffer.concat([first, more])));
  });

  it('cancels an upload without leaving its segments behind', async () => {
    const before = await countObjects(containerOf(driver), 'segments/');
    const writer = await driver.writer('/cancelled/data', false);
    await writer.write(randomBytes((3 << 20) + 1));
    await writer.close();
    const reopened = await driver.writer('/cancelled/data', true);
    await reopened.cancel();
    await expect(driver.stat('/cancelled/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before);
    // nothing temporary remains: no state, tail or claim next to the path
    expect(await countObjects(containerOf(driver), 'files/cancelled')).toBe(0);
  });

  it('moves a segmented object over another one and commits over one, leaving exactly the segments the content needs', async () => {
    const write = async (path: string, content: Buffer): Promise<void> => {
      const writer = await driver.writer(path, false);
      await writer.write(content);
      await writer.commit();
      await writer.close();
    };
    const segmentsOf = async (path: string): Promise<string[]> => {
      const manifest = await request(`${endpoint.storageUrl}/${containerOf(driver)}/files${path}?multipart-manifest=get`, { headers: { 'x-auth-token': await token() } });
      return ((await manifest.body.json()) as { name: string }[]).map((segment) => segment.name);
    };
    const before = await countObjects(containerOf(driver), 'segments/');
    const moved = randomBytes((1 << 20) + 100);
    await write('/replace/source', moved);
    await write('/replace/dest', randomBytes((1 << 20) + 200));
    const sourceSegments = await segmentsOf('/replace/source');
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before + 4);

    await driver.move('/replace/source', '/replace/dest');
    await expect(driver.stat('/replace/source')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(sha(await readAll(await driver.reader('/replace/dest', 0)))).toBe(sha(moved));
    // the destination now holds the source's segments; its own old ones are gone
    expect(await segmentsOf('/replace/dest')).toEqual(sourceSegments);
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before + 2);

    const rewritten = randomBytes((2 << 20) + 300);
    await write('/replace/dest', rewritten);
    expect(sha(await readAll(await driver.reader('/replace/dest', 0)))).toBe(sha(rewritten));
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before + 3);

    await driver.delete('/replace');
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before);
    expect(await countObjects(containerOf(driver), 'files/replace')).toBe(0);
    expect(await countObjects(containerOf(driver), 'segment-owners/')).toBe(0);
  });

  it('keeps a moved object whole when the move stopped after its copy and the source is deleted later', async () => {
    const content = randomBytes((2 << 20) + 500);
    const writer = await driver.writer('/interrupted/upload', false);
    await writer.write(content);
    await writer.commit();
    await writer.close();
    const before = await countObjects(containerOf(driver), 'segments/');
    // the first step of a move, as a process killed before the second one (deleting the source) leaves it
    const store = (driver as unknown as { store: { copy(source: string, dest: string): Promise<void> } }).store;
    await store.copy('files/interrupted/upload', 'files/interrupted/blob');
    // the leftover source goes, as the upload purger removes an abandoned upload; the blob keeps its segments
    await driver.delete('/interrupted/upload');
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before);
    expect(sha(await readAll(await driver.reader('/interrupted/blob', 0)))).toBe(sha(content));
    await driver.delete('/interrupted');
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(before - 3);
    expect(await countObjects(containerOf(driver), 'segment-owners/')).toBe(0);
  });

  it('walks depth first in lexical order from one listing per directory, honouring skipDir, stop and startAfter', async () => {
    await checkWalk(driver);
  });

  it('writes nothing when a writer is opened and closed without data (an upload status check)', async () => {
    const first = await driver.writer('/status/data', false);
    await first.write(randomBytes(300_000));
    await first.close();
    const segments = await countObjects(containerOf(driver), 'segments/');
    for (let i = 0; i < 3; i++) {
      const peek = await driver.writer('/status/data', true);
      expect(peek.size).toBe(300_000);
      await peek.close();
    }
    expect(await countObjects(containerOf(driver), 'segments/')).toBe(segments);
    const last = await driver.writer('/status/data', true);
    await last.write(Buffer.from('end'));
    await last.commit();
    await last.close();
    expect((await driver.stat('/status/data')).size).toBe(300_003);
  });

  it('doubles the segment size every 250 segments, so the 1000 segments Swift allows hold 3750 x chunksize', async () => {
    const writer = await driver.writer('/growing/data', false);
    const block = randomBytes(1 << 20);
    const hash = createHash('sha256');
    for (let i = 0; i < 253; i++) {
      await writer.write(block);
      hash.update(block);
    }
    await writer.write(block.subarray(0, 1000));
    hash.update(block.subarray(0, 1000));
    await writer.commit();
    await writer.close();
    const manifest = await request(`${endpoint.storageUrl}/${containerOf(driver)}/files/growing/data?multipart-manifest=get`, { headers: { 'x-auth-token': await token() } });
    const sizes = ((await manifest.body.json()) as { bytes: number }[]).map((s) => s.bytes);
    expect(sizes.slice(0, 250).every((size) => size === 1 << 20)).toBe(true);
    expect(sizes.slice(250)).toEqual([2 << 20, (1 << 20) + 1000]);
    const back = createHash('sha256');
    for await (const chunk of await driver.reader('/growing/data', 0)) back.update(chunk as Buffer);
    expect(back.digest('hex')).toBe(hash.digest('hex'));
    await driver.delete('/growing');
  });
});
