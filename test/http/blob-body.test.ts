import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_CHUNK_SIZE, LARGE_RESPONSES, SMALL_COPY_CHUNK_SIZE } from '../../src/http/copy-buffers.js';
import { READ_AT, type ReadAt, type StorageDriver } from '../../src/storage/driver.js';
import { decorate } from '../support/driver-decorator.js';
import { descriptorsUnder } from '../support/open-descriptors.js';
import { createFilesystemDriver } from '../support/stowage.js';
import { inMemoryDriver, pushBlob, startTestRegistry, type TestRegistry } from './support/registry.js';

/** Incompressible, position-dependent bytes: a buffer reused too early shows up as a wrong byte somewhere. */
function bytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest();
  return createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16)).update(Buffer.alloc(size));
}

/** The inmemory driver with reader streams that offer READ_AT, as the filesystem driver's do, counting what it serves. */
class PositionalDriver {
  private readonly store = inMemoryDriver();
  /** what the registry is given */
  readonly driver: StorageDriver = decorate(this.store, { reader: (path, offset, signal) => this.reader(path, offset, signal) });
  readAtCalls = 0;
  readonly streams: Readable[] = [];
  destroyed = 0;
  opened = 0;
  /** set to make READ_AT fail (or stop early) from this position on */
  failFrom?: { position: number; how: 'error' | 'eof' };
  /** set to slow each READ_AT down */
  delayMs = 0;
  /** the length each READ_AT call asked for, per reader (in the order the readers were opened) */
  readLengths: number[][] = [];
  /** set to hold every READ_AT until it resolves */
  gate?: Promise<void>;

  async reader(path: string, offset: number, signal?: AbortSignal): Promise<Readable> {
    const stream = await this.store.reader(path, offset, signal);
    const content = Buffer.from(await this.store.getContent(path));
    this.opened++;
    this.streams.push(stream);
    stream.once('close', () => this.destroyed++);
    const lengths: number[] = [];
    this.readLengths.push(lengths);
    const readAt: ReadAt = async (buffer, length, position) => {
      this.readAtCalls++;
      lengths.push(length);
      if (this.gate) await this.gate;
      if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      if (this.failFrom && position >= this.failFrom.position) {
        if (this.failFrom.how === 'error') throw new Error('disk on fire');
        return 0;
      }
      // a short read now and then, as pread may give
      const count = Math.min(length, content.length - position, position % 3 === 0 ? length : Math.ceil(length / 2));
      content.copy(buffer, 0, position, position + count);
      return Math.max(0, count);
    };
    return Object.assign(stream, { [READ_AT]: readAt });
  }
}

describe('blob GETs through the driver stream READ_AT (reused buffers)', () => {
  let registry: TestRegistry;
  let driver: PositionalDriver;
  const big = bytes('big', 5 * COPY_CHUNK_SIZE + 12345);
  const other = bytes('other', 3 * COPY_CHUNK_SIZE - 7);
  let bigDigest: string;
  let otherDigest: string;

  beforeAll(async () => {
    driver = new PositionalDriver();
    registry = await startTestRegistry({ driver: driver.driver });
    bigDigest = await pushBlob(registry, 'positional/repo', big);
    otherDigest = await pushBlob(registry, 'positional/repo', other);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('serves the whole blob through READ_AT, never reading the stream, and releases the stream', async () => {
    const before = { readAt: driver.readAtCalls, opened: driver.opened, destroyed: driver.destroyed };
    const response = await registry.send('GET', `/v2/positional/repo/blobs/${bigDigest}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(big.length));
    expect(Buffer.compare(response.body, big)).toBe(0);
    expect(driver.readAtCalls - before.readAt).toBeGreaterThan(5);
    expect(driver.opened - before.opened).toBe(1);
    expect(driver.streams.at(-1)!.readableDidRead).toBe(false);
    await expect.poll(() => driver.destroyed - before.destroyed, { timeout: 30_000 }).toBe(1);
  });

  it('serves ranges that start and end inside chunks, across chunk boundaries', async () => {
    for (const [first, last] of [
      [0, 0],
      [COPY_CHUNK_SIZE - 1, COPY_CHUNK_SIZE],
      [123_456, 3 * COPY_CHUNK_SIZE + 99],
      [big.length - 10, big.length - 1],
    ] as const) {
      const response = await registry.send('GET', `/v2/positional/repo/blobs/${bigDigest}`, { headers: { range: `bytes=${first}-${last}` } });
      expect(response.status).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${first}-${last}/${big.length}`);
      expect(Buffer.compare(response.body, big.subarray(first, last + 1))).toBe(0);
    }
  });

  it('keeps concurrent pulls of different blobs apart (no buffer is shared while in use)', async () => {
    const pulls = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? ([bigDigest, big] as const) : ([otherDigest, other] as const)));
    const responses = await Promise.all(pulls.map(([digest]) => registry.send('GET', `/v2/positional/repo/blobs/${digest}`)));
    responses.forEach((response, i) => {
      expect(response.status).toBe(200);
      expect(Buffer.compare(response.body, pulls[i]![1])).toBe(0);
    });
  });

  it('survives a client that goes away mid-blob: the stream is released and the next pull is intact', async () => {
    driver.delayMs = 5;
    try {
      const destroyed = driver.destroyed;
      const controller = new AbortController();
      const response = await request(`${registry.url}/v2/positional/repo/blobs/${bigDigest}`, { signal: controller.signal });
      let received = 0;
      await expect(
        (async () => {
          for await (const chunk of response.body) {
            received += (chunk as Buffer).length;
            if (received > COPY_CHUNK_SIZE) controller.abort();
          }
        })(),
      ).rejects.toThrow();
      expect(received).toBeLessThan(big.length);
      await expect.poll(() => driver.destroyed - destroyed, { timeout: 30_000 }).toBe(1);
    } finally {
      driver.delayMs = 0;
    }
    const again = await registry.send('GET', `/v2/positional/repo/blobs/${bigDigest}`);
    expect(Buffer.compare(again.body, big)).toBe(0);
  });

  it('reads a body over 1 MiB in 4 MiB chunks after a first 1 MiB read, and a body of at most 1 MiB in 1 MiB chunks', async () => {
    const small = bytes('small', SMALL_COPY_CHUNK_SIZE);
    const smallDigest = await pushBlob(registry, 'positional/repo', small);
    for (const [digest, content, chunk] of [
      [bigDigest, big, COPY_CHUNK_SIZE],
      [smallDigest, small, SMALL_COPY_CHUNK_SIZE],
    ] as const) {
      const response = await registry.send('GET', `/v2/positional/repo/blobs/${digest}`);
      expect(Buffer.compare(response.body, content)).toBe(0);
      const lengths = driver.readLengths.at(-1)!;
      expect(lengths[0]).toBe(SMALL_COPY_CHUNK_SIZE);
      expect(Math.max(...lengths)).toBe(Math.min(chunk, content.length));
    }
  });

  /** Starts `count` GETs of the big blob with every READ_AT held; resolves once each has asked for its first chunk. */
  async function heldPulls(
    count: number,
    signal?: AbortSignal,
  ): Promise<{ release: () => void; responses: Promise<Awaited<ReturnType<typeof request>>>[]; largestReads: () => number[]; streams: () => Readable[] }> {
    let open!: () => void;
    driver.gate = new Promise<void>((resolve) => (open = resolve));
    const release = (): void => {
      driver.gate = undefined;
      open();
    };
    const readers = driver.readLengths.length;
    const streams = driver.streams.length;
    const calls = driver.readAtCalls;
    const responses = Array.from({ length: count }, () => request(`${registry.url}/v2/positional/repo/blobs/${bigDigest}`, { signal }));
    try {
      await expect.poll(() => driver.readAtCalls - calls, { timeout: 30_000 }).toBe(count);
    } catch (err) {
      // the pulls must not stay held into the next tests
      release();
      await Promise.allSettled(responses.map(async (response) => (await response).body.dump()));
      throw err;
    }
    return {
      release,
      responses,
      largestReads: () => driver.readLengths.slice(readers).map((lengths) => Math.max(...lengths)),
      streams: () => driver.streams.slice(streams),
    };
  }

  it(`copies through 4 MiB buffers for at most ${LARGE_RESPONSES} responses at once, the others through 1 MiB buffers, all intact`, async () => {
    const pulls = await heldPulls(LARGE_RESPONSES + 2);
    pulls.release();
    const bodies = await Promise.all(pulls.responses.map(async (response) => Buffer.from(await (await response).body.arrayBuffer())));
    for (const body of bodies) expect(Buffer.compare(body, big)).toBe(0);
    const largestReads = pulls.largestReads().sort((a, b) => a - b);
    expect(largestReads).toEqual([...Array<number>(2).fill(SMALL_COPY_CHUNK_SIZE), ...Array<number>(LARGE_RESPONSES).fill(COPY_CHUNK_SIZE)]);
  });

  it('gives the 4 MiB buffers back when clients go away mid-pull: the next pull copies in 4 MiB chunks again', async () => {
    const controller = new AbortController();
    const pulls = await heldPulls(LARGE_RESPONSES + 2, controller.signal);
    controller.abort();
    await Promise.allSettled(pulls.responses);
    pulls.release();
    await expect.poll(() => pulls.streams().filter((stream) => stream.closed).length, { timeout: 30_000 }).toBe(LARGE_RESPONSES + 2);
    const again = await registry.send('GET', `/v2/positional/repo/blobs/${bigDigest}`);
    expect(Buffer.compare(again.body, big)).toBe(0);
    expect(Math.max(...driver.readLengths.at(-1)!)).toBe(COPY_CHUNK_SIZE);
  });

  it.each(['error', 'eof'] as const)('cuts the connection when READ_AT fails (%s) after the headers went out', async (how) => {
    driver.failFrom = { position: 2 * COPY_CHUNK_SIZE, how };
    try {
      const destroyed = driver.destroyed;
      const response = await request(`${registry.url}/v2/positional/repo/blobs/${bigDigest}`);
      expect(response.statusCode).toBe(200);
      await expect(response.body.arrayBuffer()).rejects.toThrow();
      await expect.poll(() => driver.destroyed - destroyed, { timeout: 30_000 }).toBe(1);
    } finally {
      driver.failFrom = undefined;
    }
  });

  it('answers 500 with OCI error JSON when READ_AT fails before any byte was sent', async () => {
    driver.failFrom = { position: 0, how: 'error' };
    try {
      const response = await registry.send('GET', `/v2/positional/repo/blobs/${otherDigest}`);
      expect(response.status).toBe(500);
      expect(response.json()).toMatchObject({ errors: [{ code: 'UNKNOWN' }] });
    } finally {
      driver.failFrom = undefined;
    }
    const again = await registry.send('GET', `/v2/positional/repo/blobs/${otherDigest}`);
    expect(Buffer.compare(again.body, other)).toBe(0);
  });
});

describe('blob GETs from a stream without READ_AT', () => {
  it('are piped as before, ranges included', async () => {
    const registry = await startTestRegistry({ driver: inMemoryDriver() });
    try {
      const content = bytes('plain', 2 * COPY_CHUNK_SIZE + 5);
      const digest = await pushBlob(registry, 'plain/repo', content);
      const whole = await registry.send('GET', `/v2/plain/repo/blobs/${digest}`);
      expect(Buffer.compare(whole.body, content)).toBe(0);
      const part = await registry.send('GET', `/v2/plain/repo/blobs/${digest}`, { headers: { range: 'bytes=70000-1500000' } });
      expect(part.status).toBe(206);
      expect(Buffer.compare(part.body, content.subarray(70000, 1500001))).toBe(0);
    } finally {
      await registry.close();
    }
  });
});

describe('blob GETs from the filesystem driver (positional reads from the file)', () => {
  let root: string;
  let registry: TestRegistry;
  // crosses two 4 MiB chunk boundaries and ends mid-chunk
  const content = bytes('filesystem', 2 * COPY_CHUNK_SIZE + 54321);
  let digest: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'stowage-blob-body-'));
    registry = await startTestRegistry({ driver: await createFilesystemDriver(root) });
    digest = await pushBlob(registry, 'fs/repo', content);
  });
  afterAll(async () => {
    await registry?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers any single byte range with exactly those bytes, wherever it starts and ends', async () => {
    const size = content.length;
    const position = fc.oneof(fc.integer({ min: 0, max: size - 1 }), fc.constantFrom(0, SMALL_COPY_CHUNK_SIZE - 1, SMALL_COPY_CHUNK_SIZE, COPY_CHUNK_SIZE - 1, COPY_CHUNK_SIZE, COPY_CHUNK_SIZE + 1, 2 * COPY_CHUNK_SIZE, size - 1));
    const range = fc.oneof(
      fc.tuple(position, position).map(([a, b]) => ({ header: `bytes=${Math.min(a, b)}-${Math.max(a, b)}`, start: Math.min(a, b), end: Math.max(a, b) })),
      position.map((a) => ({ header: `bytes=${a}-`, start: a, end: size - 1 })),
      fc.integer({ min: 1, max: size + 10 }).map((suffix) => ({ header: `bytes=-${suffix}`, start: Math.max(0, size - suffix), end: size - 1 })),
    );
    await fc.assert(
      fc.asyncProperty(range, async ({ header, start, end }) => {
        const response = await registry.send('GET', `/v2/fs/repo/blobs/${digest}`, { headers: { range: header } });
        expect(response.status).toBe(206);
        expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
        expect(response.headers['content-length']).toBe(String(end - start + 1));
        expect(Buffer.compare(response.body, content.subarray(start, end + 1))).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it('serves the whole blob, answers HEAD without a body and a matching If-None-Match with 304', async () => {
    const whole = await registry.send('GET', `/v2/fs/repo/blobs/${digest}`);
    expect(whole.status).toBe(200);
    expect(Buffer.compare(whole.body, content)).toBe(0);
    const head = await registry.send('HEAD', `/v2/fs/repo/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(content.length));
    expect(head.body.length).toBe(0);
    const unchanged = await registry.send('GET', `/v2/fs/repo/blobs/${digest}`, { headers: { 'if-none-match': `"${digest}"` } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body.length).toBe(0);
  });

  it(`closes the file of every pull its client broke off (${LARGE_RESPONSES + 2} at once), and serves the next pull whole`, async () => {
    const controller = new AbortController();
    const pulls = Array.from({ length: LARGE_RESPONSES + 2 }, async () => {
      const response = await request(`${registry.url}/v2/fs/repo/blobs/${digest}`, { signal: controller.signal });
      // the first bytes arrived: the server is copying this pull when the client goes away
      for await (const chunk of response.body) if ((chunk as Buffer).length > 0) break;
    });
    await Promise.all(pulls);
    controller.abort();
    await expect.poll(() => descriptorsUnder(root), { timeout: 30_000 }).toEqual([]);
    const again = await registry.send('GET', `/v2/fs/repo/blobs/${digest}`);
    expect(Buffer.compare(again.body, content)).toBe(0);
  });
});
