/**
 * Behaviour every object-store driver of this repository must show against its emulator, beyond the
 * conformance kit: resumable multipart writers with small appends, hidden upload state, paged listings,
 * presigned redirects, and retries and timeouts as the options say. Used by test/oss and test/ufile.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { until } from '../support/until.js';
import type { FaultInjector, LoggedRequest } from './emulator-faults.js';

export interface EmulatedBackend {
  readonly faults: FaultInjector;
  readonly requests: LoggedRequest[];
  openUploads(): number;
  /** every key stored, for checks that nothing stray is left */
  keys(): string[];
}

export interface DriverFactoryForTests {
  (overrides?: Record<string, unknown>): Promise<StorageDriver>;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const codeOf = (err: unknown) => (err as { code?: string }).code;

export function describeObjectDriverCases(
  name: string,
  backend: () => EmulatedBackend,
  makeDriver: DriverFactoryForTests,
  partSize: number,
): void {
  describe(`${name} driver against its emulator`, () => {
    const unique = () => `/t-${randomBytes(4).toString('hex')}`;

    it('round-trips content and reports a missing path as PATH_NOT_FOUND', async () => {
      const driver = await makeDriver();
      const base = unique();
      await driver.putContent(`${base}/a/b`, Buffer.from('content'));
      expect(Buffer.from(await driver.getContent(`${base}/a/b`)).toString()).toBe('content');
      await expect(driver.getContent(`${base}/nope`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      await driver.close?.();
      // closing twice (the registry and whoever embeds it) is harmless
      await driver.close?.();
    });

    it('reads from any offset, yields nothing at the end and refuses an offset past it', async () => {
      const driver = await makeDriver();
      const path = `${unique()}/blob`;
      await driver.putContent(path, Buffer.from('0123456789'));
      expect((await readAll(await driver.reader(path, 0))).toString()).toBe('0123456789');
      expect((await readAll(await driver.reader(path, 4))).toString()).toBe('456789');
      expect((await readAll(await driver.reader(path, 10))).length).toBe(0);
      await expect(driver.reader(path, 11)).rejects.toMatchObject({ code: 'INVALID_OFFSET' });
      await expect(driver.reader(`${path}x`, 0)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      await driver.close?.();
    });

    it('resumes a writer across close and reopen, small appends included, and shows nothing before commit', async () => {
      const base = unique();
      const path = `${base}/_uploads/u1/data`;
      const content = randomBytes(partSize * 2 + 12345);
      const cuts = [0, 7, 100, partSize - 3, partSize + 5, partSize * 2 + 1, content.length];
      for (let i = 0; i + 1 < cuts.length; i += 1) {
        // a fresh driver each time: the state must come from the backend, not from memory
        const driver = await makeDriver();
        const writer = await driver.writer(path, i > 0);
        expect(writer.size).toBe(cuts[i]);
        const piece = content.subarray(cuts[i], cuts[i + 1]);
        for (let at = 0; at < piece.length; at += 65536) await writer.write(piece.subarray(at, at + 65536));
        expect(writer.size).toBe(cuts[i + 1]);
        if (i + 2 < cuts.length) {
          await writer.close();
          expect(writer.size).toBe(cuts[i + 1]);
          await expect(driver.stat(path)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
          expect(await driver.list(`${base}/_uploads/u1`).catch(codeOf)).toBe('PATH_NOT_FOUND');
        } else {
          await writer.commit();
          await writer.close();
          expect(writer.size).toBe(content.length);
        }
        await driver.close?.();
      }
      const driver = await makeDriver();
      expect(Buffer.compare(Buffer.from(await driver.getContent(path)), content)).toBe(0);
      expect((await driver.stat(path)).size).toBe(content.length);
      expect(await driver.list(`${base}/_uploads/u1`)).toEqual([path]);
      expect(backend().keys().filter((k) => k.includes(base.slice(1)) && k.includes('~'))).toEqual([]);
      expect(backend().openUploads()).toBe(0);
      await driver.close?.();
    });

    it('commits content smaller than a part with one PUT and a zero-byte writer as an empty object', async () => {
      const driver = await makeDriver();
      const base = unique();
      const small = await driver.writer(`${base}/small`, false);
      await small.write(Buffer.from('tiny'));
      await small.commit();
      await small.close();
      const empty = await driver.writer(`${base}/empty`, false);
      await empty.commit();
      await empty.close();
      expect(Buffer.from(await driver.getContent(`${base}/small`)).toString()).toBe('tiny');
      expect((await driver.stat(`${base}/empty`)).size).toBe(0);
      await driver.close?.();
    });

    it('appends to committed content: the old bytes stay until the new commit', async () => {
      const driver = await makeDriver();
      const path = `${unique()}/appended`;
      const first = randomBytes(partSize + 17);
      await driver.putContent(path, first);
      const writer = await driver.writer(path, true);
      expect(writer.size).toBe(first.length);
      await writer.write(Buffer.from('more'));
      await writer.close();
      expect(Buffer.compare(Buffer.from(await driver.getContent(path)), first)).toBe(0);
      const resumed = await driver.writer(path, true);
      expect(resumed.size).toBe(first.length + 4);
      await resumed.commit();
      await resumed.close();
      expect(Buffer.compare(Buffer.from(await driver.getContent(path)), Buffer.concat([first, Buffer.from('more')]))).toBe(0);
      await driver.close?.();
    });

    it('cancels a writer with parts uploaded: nothing visible, no upload left open, no state left', async () => {
      const driver = await makeDriver();
      const base = unique();
      const writer = await driver.writer(`${base}/data`, false);
      await writer.write(randomBytes(partSize + 10));
      await writer.close();
      const reopened = await driver.writer(`${base}/data`, true);
      expect(reopened.size).toBe(partSize + 10);
      await reopened.cancel();
      await reopened.close();
      await expect(driver.stat(`${base}/data`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      expect(backend().keys().filter((k) => k.includes(base.slice(1)))).toEqual([]);
      expect(backend().openUploads()).toBe(0);
      await driver.close?.();
    });

    it('a writer whose client goes away while the service creates its multipart upload still records the upload: none is left open', async () => {
      const driver = await makeDriver();
      const path = `${unique()}/initiated`;
      const openBefore = backend().openUploads();
      // the service creates the upload but is slow to say so, and the client leaves meanwhile
      backend().faults.add({ method: 'POST', match: path.slice(1), delayReplyMs: 400, times: 1 });
      const writer = await driver.writer(path, false);
      const client = new AbortController();
      const logged = backend().requests.length;
      const writing = writer.write(randomBytes(partSize + 10), client.signal);
      await until('the create reaches the service', () => backend().requests.slice(logged).some((r) => r.method === 'POST') || undefined, 10_000);
      client.abort();
      await expect(writing).rejects.toThrow();
      await until('the service has created the upload', () => backend().openUploads() > openBefore || undefined, 10_000);
      await writer.close();
      const reopened = await driver.writer(path, true);
      await reopened.cancel();
      await reopened.close();
      expect(backend().openUploads()).toBe(openBefore);
      await driver.close?.();
    });

    it('lists direct children only, across pages of 1000 keys', async () => {
      const driver = await makeDriver();
      const base = unique();
      const names = Array.from({ length: 1003 }, (_, i) => `${base}/dir/f${String(i).padStart(4, '0')}`);
      for (let at = 0; at < names.length; at += 50) await Promise.all(names.slice(at, at + 50).map((p) => driver.putContent(p, Buffer.from('x'))));
      await driver.putContent(`${base}/dir/sub/deep/file`, Buffer.from('y'));
      await driver.putContent(`${base}/dirx`, Buffer.from('z'));
      const listed = await driver.list(`${base}/dir`);
      expect(listed.length).toBe(1004);
      expect(listed).toContain(`${base}/dir/sub`);
      expect(listed).not.toContain(`${base}/dir/sub/deep`);
      expect((await driver.list(base)).sort()).toEqual([`${base}/dir`, `${base}/dirx`]);
      expect(await driver.list('/')).toContain(base);
      await expect(driver.list(`${base}/none`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      expect(await driver.stat(`${base}/dir/sub`)).toMatchObject({ isDir: true, size: 0 });
      expect(await driver.stat(`${base}/dirx`)).toMatchObject({ isDir: false, size: 1 });
      await driver.delete(`${base}/dir`);
      await expect(driver.list(`${base}/dir`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      expect(Buffer.from(await driver.getContent(`${base}/dirx`)).toString()).toBe('z');
      await driver.close?.();
    });

    it('walks depth first in lexical order, with sizes, skipDir and stop', async () => {
      const driver = await makeDriver();
      const base = unique();
      for (const name of ['a/b/c', 'a-c', 'a/b.d', 'a/z', 'b']) await driver.putContent(`${base}/${name}`, Buffer.from(name));
      const seen: string[] = [];
      await driver.walk!(base, (info) => { seen.push(`${info.path.slice(base.length)}${info.isDir ? '/' : `:${info.size}`}`); });
      expect(seen).toEqual(['/a/', '/a/b/', '/a/b/c:5', '/a/b.d:5', '/a/z:3', '/a-c:3', '/b:1']);
      const skipped: string[] = [];
      await driver.walk!(base, (info) => { skipped.push(info.path.slice(base.length)); return info.path.endsWith('/a/b') ? 'skipDir' : undefined; });
      expect(skipped).toEqual(['/a', '/a/b', '/a/b.d', '/a/z', '/a-c', '/b']);
      const stopped: string[] = [];
      await driver.walk!(base, (info) => { stopped.push(info.path.slice(base.length)); return info.path.endsWith('/a/z') ? 'stop' : undefined; });
      expect(stopped.at(-1)).toBe('/a/z');
      await expect(driver.walk!(`${base}/none`, () => undefined)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      await driver.close?.();
    });

    it('moves over an existing destination and leaves the destination alone when the source is missing', async () => {
      const driver = await makeDriver();
      const base = unique();
      await driver.putContent(`${base}/src`, Buffer.from('new'));
      await driver.putContent(`${base}/dst`, Buffer.from('old'));
      await driver.move(`${base}/src`, `${base}/dst`);
      expect(Buffer.from(await driver.getContent(`${base}/dst`)).toString()).toBe('new');
      await expect(driver.stat(`${base}/src`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      await expect(driver.move(`${base}/src`, `${base}/dst`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      expect(Buffer.from(await driver.getContent(`${base}/dst`)).toString()).toBe('new');
      await driver.close?.();
    });

    it('deletes a tree, aborting an upload in progress inside it, and never a sibling with the same prefix', async () => {
      const driver = await makeDriver();
      const base = unique();
      await driver.putContent(`${base}/a/x`, Buffer.from('1'));
      await driver.putContent(`${base}/ab`, Buffer.from('2'));
      const writer = await driver.writer(`${base}/a/upload/data`, false);
      await writer.write(randomBytes(partSize + 1));
      await writer.close();
      expect(backend().openUploads()).toBeGreaterThan(0);
      await driver.delete(`${base}/a`);
      expect(backend().openUploads()).toBe(0);
      expect(backend().keys().filter((k) => k.includes(`${base.slice(1)}/a/`))).toEqual([]);
      expect(Buffer.from(await driver.getContent(`${base}/ab`)).toString()).toBe('2');
      await expect(driver.delete(`${base}/a`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      await driver.close?.();
    });

    it('hands out presigned GET and HEAD URLs that the backend honours', async () => {
      const driver = await makeDriver();
      const path = `${unique()}/blob`;
      await driver.putContent(path, Buffer.from('redirected'));
      const get = await driver.redirectURL!(path, { method: 'GET', expiresIn: 60 });
      const head = await driver.redirectURL!(path, { method: 'HEAD', expiresIn: 60 });
      const got = await fetch(get!);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('redirected');
      const headed = await fetch(head!, { method: 'HEAD' });
      expect(headed.status).toBe(200);
      expect(headed.headers.get('content-length')).toBe('10');
      expect((await fetch(get!, { method: 'DELETE' })).status).toBeGreaterThanOrEqual(400);
      await driver.close?.();
    });

    it('retries failed requests as many times as `retries` says, then fails with the backend error', async () => {
      const driver = await makeDriver({ retries: 2, retryinterval: 0.05 });
      const path = `${unique()}/r`;
      await driver.putContent(path, Buffer.from('r'));
      backend().faults.add({ method: 'GET', match: path.slice(1), status: 503, times: 2 });
      expect(Buffer.from(await driver.getContent(path)).toString()).toBe('r');
      const before = backend().requests.length;
      backend().faults.add({ method: 'GET', match: path.slice(1), status: 500, times: 3 });
      await expect(driver.getContent(path)).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringContaining('500') });
      expect(backend().requests.slice(before).filter((r) => r.url.includes(path.slice(1))).length).toBe(3);
      backend().faults.add({ method: 'PUT', match: path.slice(1), reset: true, times: 1 });
      await driver.putContent(path, Buffer.from('after a dropped connection'));
      expect(Buffer.from(await driver.getContent(path)).toString()).toBe('after a dropped connection');
      await driver.close?.();
    });

    it('commits an upload whose complete reply was lost: the retry finds it done', async () => {
      const driver = await makeDriver({ retries: 2, retryinterval: 0 });
      const path = `${unique()}/lost-reply`;
      const content = randomBytes(partSize + 100);
      const writer = await driver.writer(path, false);
      await writer.write(content);
      backend().faults.add({ method: 'POST', match: 'uploadId=', dropResponse: true, times: 1 });
      const before = backend().requests.length;
      await writer.commit();
      await writer.close();
      const completes = backend().requests.slice(before).filter((r) => r.method === 'POST' && r.url.includes('lost-reply') && r.url.includes('uploadId='));
      expect(completes.length).toBe(2);
      expect(Buffer.compare(Buffer.from(await driver.getContent(path)), content)).toBe(0);
      await driver.close?.();
    });

    it('gives up on a request that takes longer than `timeout` and retries it', async () => {
      const path = `${unique()}/slow`;
      const setup = await makeDriver();
      await setup.putContent(path, Buffer.from('slow'));
      await setup.close?.();
      const patient = await makeDriver({ retries: 2, retryinterval: 0, timeout: 0.5 });
      backend().faults.add({ method: 'GET', match: path.slice(1), delayMs: 3000, times: 1 });
      const started = Date.now();
      expect(Buffer.from(await patient.getContent(path)).toString()).toBe('slow');
      // the stalled attempt was abandoned at the timeout, not waited out
      expect(Date.now() - started).toBeLessThan(2800);
      await patient.close?.();
      const impatient = await makeDriver({ retries: 0, timeout: 0.3 });
      backend().faults.add({ method: 'GET', match: path.slice(1), delayMs: 1000, times: 1 });
      await expect(impatient.getContent(path)).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: expect.stringMatching(/timed out|timeout/i) });
      await impatient.close?.();
    });
  });
}
