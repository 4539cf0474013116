import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { driverContext, readAll, recordingLogger, swiftDriver } from './drivers.js';

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

    const other = await swiftDriver(endpoint, { container: (driver as unknown as { store: { container: string } }).store.container });
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
      const client = (renewing as unknown as { client: { currentSession(): Promise<{ token: string }> } }).client;
      const stale = (await client.currentSession()).token;
      await forgetToken(stale);
      const check = await request(`${endpoint.storageUrl}`, { headers: { 'x-auth-token': stale } });
      await check.body.dump();
      expect(check.statusCode).toBe(401);

      expect(Buffer.from(await renewing.getContent('/renew/a')).toString()).toBe('before');
      expect((await client.currentSession()).token).not.toBe(stale);
      expect(logger.lines.some((line) => line.msg?.includes('authenticating again'))).toBe(true);
    } finally {
      await renewing.close?.();
    }
  });
});
