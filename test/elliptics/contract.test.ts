/**
 * The driver contract cases of distribution's storage driver test suite that the Elliptics design makes
 * delicate (staged uploads, copies instead of renames, journals instead of prefix listings), on three
 * emulated nodes and groups. The full conformance kit runs in conformance.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { startEmulatedDriver } from './context.js';

const read = async (driver: StorageDriver, path: string, offset = 0): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const chunk of await driver.reader(path, offset)) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
};

describe('Elliptics driver contract', () => {
  let driver: StorageDriver;
  beforeAll(async () => {
    ({ driver } = await startEmulatedDriver({ chunksize: 64 * 1024 }));
  });
  afterAll(async () => {
    await driver?.close?.();
  });

  it('round-trips content of many sizes, overwriting each time', async () => {
    for (const size of [0, 1, 4095, 64 * 1024, 64 * 1024 + 1, 1024 * 1024 + 17]) {
      const content = randomBytes(size);
      await driver.putContent('/sizes/file', content);
      expect(Buffer.from(await driver.getContent('/sizes/file')).equals(content), `size ${size}`).toBe(true);
      expect((await driver.stat('/sizes/file')).size).toBe(size);
    }
  });

  it('writes a stream in odd chunk sizes and reads it back from every offset class', async () => {
    const content = randomBytes(300_001);
    const writer = await driver.writer('/stream/file', false);
    for (let at = 0; at < content.length; at += 7919) await writer.write(content.subarray(at, at + 7919));
    expect(writer.size).toBe(content.length);
    await writer.commit();
    await writer.close();
    for (const offset of [0, 1, 65535, 65536, 65537, 300_000, 300_001]) {
      expect((await read(driver, '/stream/file', offset)).equals(content.subarray(offset)), `offset ${offset}`).toBe(true);
    }
  });

  it('continues an upload over several writers and cancels one without a trace', async () => {
    const parts = [randomBytes(70_000), randomBytes(1), randomBytes(130_000)];
    let size = 0;
    for (const part of parts) {
      const writer = await driver.writer('/resume/file', true);
      expect(writer.size).toBe(size);
      await writer.write(part);
      await writer.close();
      size += part.length;
    }
    const last = await driver.writer('/resume/file', true);
    expect(last.size).toBe(size);
    await last.commit();
    await last.close();
    expect(Buffer.from(await driver.getContent('/resume/file')).equals(Buffer.concat(parts))).toBe(true);

    const cancelled = await driver.writer('/resume/cancelled', false);
    await cancelled.write(randomBytes(100_000));
    await cancelled.cancel();
    await expect(driver.stat('/resume/cancelled')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect((await driver.writer('/resume/cancelled', true)).size).toBe(0);
  });

  it('appends to empty content written with putContent', async () => {
    await driver.putContent('/zero/then-append', new Uint8Array());
    const writer = await driver.writer('/zero/then-append', true);
    await writer.write(Buffer.from('appended'));
    await writer.commit();
    await writer.close();
    expect(Buffer.from(await driver.getContent('/zero/then-append')).toString()).toBe('appended');
  });

  it('continues from committed content when a writer appends to it', async () => {
    const first = randomBytes(100_000);
    await driver.putContent('/append/committed', first);
    const writer = await driver.writer('/append/committed', true);
    expect(writer.size).toBe(first.length);
    await writer.write(Buffer.from('tail'));
    expect(Buffer.from(await driver.getContent('/append/committed')).equals(first)).toBe(true);
    await writer.commit();
    await writer.close();
    expect(Buffer.from(await driver.getContent('/append/committed')).equals(Buffer.concat([first, Buffer.from('tail')]))).toBe(true);
  });

  it('moves large objects, and a missing source leaves the destination untouched', async () => {
    const content = randomBytes(200_000);
    await driver.putContent('/move/a/src', content);
    await driver.move('/move/a/src', '/move/b/dst');
    expect(Buffer.from(await driver.getContent('/move/b/dst')).equals(content)).toBe(true);
    await expect(driver.list('/move/a')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(await driver.list('/move')).toEqual(['/move/b']);
    await expect(driver.move('/move/missing', '/move/b/dst')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(Buffer.from(await driver.getContent('/move/b/dst')).equals(content)).toBe(true);
  });

  it('deletes only below the path: /a never touches /ab', async () => {
    await driver.putContent('/del/a/x', Buffer.from('1'));
    await driver.putContent('/del/a/y/z', Buffer.from('2'));
    await driver.putContent('/del/ab/x', Buffer.from('3'));
    await driver.putContent('/del/a.b', Buffer.from('4'));
    await driver.delete('/del/a');
    for (const gone of ['/del/a/x', '/del/a/y/z', '/del/a/y', '/del/a']) {
      await expect(driver.stat(gone), gone).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    }
    expect((await driver.list('/del')).sort()).toEqual(['/del/a.b', '/del/ab']);
  });

  it('lists the root, serves concurrent readers and concurrent writers', async () => {
    expect(await driver.list('/')).toEqual(expect.arrayContaining(['/sizes', '/stream', '/del']));
    const files = Array.from({ length: 8 }, (_, i) => ({ path: `/concurrent/f${i}`, content: randomBytes(50_000 + i) }));
    await Promise.all(
      files.map(async ({ path, content }) => {
        const writer = await driver.writer(path, false);
        for (let at = 0; at < content.length; at += 10_000) await writer.write(content.subarray(at, at + 10_000));
        await writer.commit();
        await writer.close();
      }),
    );
    const readBack = await Promise.all(files.flatMap(({ path }) => [read(driver, path), read(driver, path, 123)]));
    files.forEach(({ content }, i) => {
      expect(readBack[2 * i]!.equals(content)).toBe(true);
      expect(readBack[2 * i + 1]!.equals(content.subarray(123))).toBe(true);
    });
    expect((await driver.list('/concurrent')).length).toBe(8);
  });
});
