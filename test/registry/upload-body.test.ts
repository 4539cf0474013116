/**
 * Upload bodies are copied into storage through batches borrowed from one pool shared by every upload:
 * memory stays bounded however many uploads run, a batch is lent only while it holds bytes to write, and
 * nothing an upload read is lost or mixed with another upload's bytes. Bodies are written with the real
 * filesystem driver's writers; a gate in front of a writer decides when a write starts, so the tests wait
 * on events, never on time.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { BufferPool } from '../../src/registry/buffer-pool.js';
import { withDeclaredLength } from '../../src/registry/declared-length.js';
import { disposablePieces } from '../../src/registry/disposable-pieces.js';
import { readSmallBody } from '../../src/registry/small-body.js';
import { writeBody } from '../../src/registry/upload-body.js';
import type { FileWriter, StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';

const root = mkdtempSync(join(tmpdir(), 'stowage-upload-body-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
let files = 0;

/** A fresh upload's writer on the filesystem driver, and where its bytes land once committed. */
async function freshUpload(): Promise<{ writer: FileWriter; path: string; contents: () => Buffer }> {
  const path = `/uploads/u${files++}/data`;
  const writer = await driver.writer(path, false);
  return { writer, path, contents: () => readFileSync(join(root, path)) };
}

async function committed(writer: FileWriter): Promise<void> {
  await writer.commit();
  await writer.close();
}

/**
 * A writer whose writes each wait for `open()` (which resolves once the writes it let through are done);
 * `nextWrite` resolves with the bytes of the next write asked for.
 */
function gated(writer: FileWriter): { writer: FileWriter; open: () => Promise<void>; nextWrite: () => Promise<Uint8Array> } {
  const asked: Array<(bytes: Uint8Array) => void> = [];
  const pending: Uint8Array[] = [];
  const gates: Array<() => void> = [];
  const done: Array<Promise<void>> = [];
  return {
    writer: {
      get size() {
        return writer.size;
      },
      async write(chunk) {
        const copy = Buffer.from(chunk);
        const waiter = asked.shift();
        if (waiter) waiter(copy);
        else pending.push(copy);
        const written = new Promise<void>((resolve) => gates.push(resolve)).then(() => writer.write(chunk));
        done.push(written);
        await written;
      },
      close: (signal) => writer.close(signal),
      cancel: (signal) => writer.cancel(signal),
      commit: (signal) => writer.commit(signal),
    },
    open: async () => {
      for (const gate of gates.splice(0)) gate();
      await Promise.all(done.splice(0));
    },
    nextWrite: () => {
      const ready = pending.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => asked.push(resolve));
    },
  };
}

/** A body that yields `pieces`, then waits for `resume()` before it yields `rest` (or throws `failure`). */
function stallingBody(pieces: Buffer[], rest: Buffer[], failure?: Error): { body: AsyncIterable<Uint8Array>; stalled: Promise<void>; resume: () => void } {
  let stalled!: () => void;
  let resume!: () => void;
  const stalledAt = new Promise<void>((resolve) => (stalled = resolve));
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  const body = (async function* () {
    yield* pieces;
    stalled();
    await resumed;
    if (failure) throw failure;
    yield* rest;
  })();
  return { body, stalled: stalledAt, resume };
}

async function* piecesOf(pieces: readonly Buffer[]): AsyncIterable<Uint8Array> {
  yield* pieces;
}

describe('the shared pool of upload batches', () => {
  it('makes a borrower wait while every buffer is lent, and serves waiters in the order they asked', async () => {
    const pool = new BufferPool(4, 2);
    const first = pool.borrow() as Buffer;
    const second = pool.borrow() as Buffer;
    expect(pool.available).toBe(0);
    const served: string[] = [];
    const third = Promise.resolve(pool.borrow()).then((buffer) => (served.push('third'), buffer));
    const fourth = Promise.resolve(pool.borrow()).then((buffer) => (served.push('fourth'), buffer));
    expect(pool.waiters).toBe(2);
    pool.giveBack(second);
    expect(await third).toBe(second);
    pool.giveBack(first);
    expect(await fourth).toBe(first);
    expect(served).toEqual(['third', 'fourth']);
    expect(pool.available).toBe(0);
  });

  it('replaces a discarded buffer with a new one, so the pool never shrinks', async () => {
    const pool = new BufferPool(4, 1);
    const lost = pool.borrow() as Buffer;
    const waiting = Promise.resolve(pool.borrow());
    pool.discard();
    const replacement = await waiting;
    expect(replacement).not.toBe(lost);
    expect(replacement.length).toBe(4);
    pool.giveBack(replacement);
    expect(pool.available).toBe(1);
  });

  it('refuses a size or capacity that is not a positive integer', () => {
    expect(() => new BufferPool(0, 1)).toThrow(/buffer size/);
    expect(() => new BufferPool(8, 1.5)).toThrow(/capacity/);
  });
});

describe('writing an upload body through the pool', () => {
  it('stores many uploads at once through a pool far smaller than them, each exactly as sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 512 }),
        async (uploads, capacity, bufferSize) => {
          const pool = new BufferPool(bufferSize, capacity);
          const runs = await Promise.all(
            uploads.map(async (sizes) => {
              const pieces = sizes.map((size) => randomBytes(size));
              const upload = await freshUpload();
              const seen: Buffer[] = [];
              await writeBody(piecesOf(pieces), upload.writer, (batch) => void seen.push(Buffer.from(batch)), pool);
              await committed(upload.writer);
              return { sent: Buffer.concat(pieces), seen: Buffer.concat(seen), upload };
            }),
          );
          for (const { sent, seen, upload } of runs) {
            expect(seen.equals(sent)).toBe(true);
            expect(sent.length === 0 || upload.contents().equals(sent)).toBe(true);
            expect(upload.writer.size).toBe(sent.length);
          }
          expect(pool.available).toBe(capacity);
          expect(pool.waiters).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sends what arrived during a write as soon as it returns, and holds no batch while its client stalls', async () => {
    const pool = new BufferPool(1024, 2);
    const stalled = await freshUpload();
    const gate = gated(stalled.writer);
    const [a, b, c] = [randomBytes(700), randomBytes(200), randomBytes(300)];
    const client = stallingBody([a, b], [c]);
    const writing = writeBody(client.body, gate.writer, () => undefined, pool);
    // the first piece goes out at once (storage idle); the second arrives while it is being written
    expect(Buffer.from(await gate.nextWrite()).equals(a)).toBe(true);
    await client.stalled;
    expect(pool.available).toBe(0);
    void gate.open();
    // the second piece is sent as soon as the first write returns, though the body has not moved since
    expect(Buffer.from(await gate.nextWrite()).equals(b)).toBe(true);
    await gate.open();
    // the write's own callbacks run before the next turn of the event loop
    await new Promise(setImmediate);
    expect(pool.available).toBe(2);

    client.resume();
    expect(Buffer.from(await gate.nextWrite()).equals(c)).toBe(true);
    void gate.open();
    await writing;
    await committed(gate.writer);
    expect(stalled.contents().equals(Buffer.concat([a, b, c]))).toBe(true);
    expect(pool.available).toBe(2);
  });

  it('reads on while earlier batches wait for the writer, and stops reading once the in-flight limit is queued', async () => {
    const pool = new BufferPool(100, 10);
    const upload = await freshUpload();
    const gate = gated(upload.writer);
    const pieces = Array.from({ length: 12 }, () => randomBytes(100));
    let handedOut = 0;
    const body = (async function* () {
      for (const piece of pieces) {
        handedOut++;
        yield piece;
      }
    })();
    const writing = writeBody(body, gate.writer, () => undefined, pool, 3);
    // the first write is held at the gate; the body goes on until three batches wait for the writer
    expect(Buffer.from(await gate.nextWrite()).equals(pieces[0]!)).toBe(true);
    // every turn of the body is taken before the next turn of the event loop
    await new Promise(setImmediate);
    expect(handedOut).toBe(3);
    expect(pool.available).toBe(10 - 3);
    expect(pool.waiters).toBe(0);
    for (let written = 1; written < pieces.length; written++) {
      void gate.open();
      expect(Buffer.from(await gate.nextWrite()).equals(pieces[written]!)).toBe(true);
    }
    await gate.open();
    await writing;
    await committed(gate.writer);
    expect(upload.contents().equals(Buffer.concat(pieces))).toBe(true);
    expect(pool.available).toBe(10);
  });

  it('keeps what was read when the client goes away, gives its batches back and throws the body error', async () => {
    const pool = new BufferPool(256, 2);
    const upload = await freshUpload();
    const read = [randomBytes(300), randomBytes(100)];
    const client = stallingBody(read, [], new Error('the client went away'));
    const writing = writeBody(client.body, upload.writer, () => undefined, pool);
    await client.stalled;
    client.resume();
    await expect(writing).rejects.toThrow('the client went away');
    expect(upload.writer.size).toBe(400);
    await committed(upload.writer);
    expect(upload.contents().equals(Buffer.concat(read))).toBe(true);
    expect(pool.available).toBe(2);
  });

  it('gives back a batch filled while the loop waited for the pool when the write before it failed', async () => {
    let failSecond: ((error: Error) => void) | undefined;
    let waitedAfterSecond!: () => void;
    const waited = new Promise<void>((resolve) => (waitedAfterSecond = resolve));
    // a pool that says when a borrower has to wait once the second write holds the only batch
    class WatchedPool extends BufferPool {
      override borrow(): Buffer | Promise<Buffer> {
        const lent = super.borrow();
        if (!(lent instanceof Buffer) && failSecond) waitedAfterSecond();
        return lent;
      }
    }
    const pool = new WatchedPool(128, 1);
    const upload = await freshUpload();
    const failing: FileWriter = {
      get size() {
        return upload.writer.size;
      },
      write: (chunk) => (upload.writer.size === 0 ? upload.writer.write(chunk) : new Promise<void>((_, reject) => (failSecond = reject))),
      close: () => upload.writer.close(),
      cancel: () => upload.writer.cancel(),
      commit: () => upload.writer.commit(),
    };
    const pieces = [randomBytes(128), randomBytes(128), randomBytes(128)];
    const writing = writeBody(piecesOf(pieces), failing, () => undefined, pool);
    await waited;
    failSecond!(new Error('disk full'));
    await expect(writing).rejects.toThrow('disk full');
    expect(upload.writer.size).toBe(128);
    expect(pool.available).toBe(1);
    expect(pool.waiters).toBe(0);
    await upload.writer.close();
  });

  it('throws a failed write as it is, writes nothing after it, and never lends its batch again', async () => {
    const pool = new BufferPool(128, 1);
    const upload = await freshUpload();
    let failedBatch: ArrayBufferLike | undefined;
    const failing: FileWriter = {
      get size() {
        return upload.writer.size;
      },
      write: async (chunk) => {
        if (upload.writer.size === 0) return upload.writer.write(chunk);
        failedBatch = chunk.buffer;
        throw new Error('disk full');
      },
      close: () => upload.writer.close(),
      cancel: () => upload.writer.cancel(),
      commit: () => upload.writer.commit(),
    };
    const pieces = [randomBytes(128), randomBytes(128), randomBytes(128), randomBytes(128)];
    await expect(writeBody(piecesOf(pieces), failing, () => undefined, pool)).rejects.toThrow('disk full');
    expect(upload.writer.size).toBe(128);
    expect(pool.available).toBe(1);
    expect(failedBatch).toBeDefined();
    expect((pool.borrow() as Buffer).buffer).not.toBe(failedBatch);
    await upload.writer.close();
  });
});

/** `size` random bytes in an ArrayBuffer of their own, as Node's HTTP parser hands out each piece of a body. */
function ownPiece(size: number): Buffer {
  const piece = Buffer.from(new ArrayBuffer(size));
  randomFillSync(piece);
  return piece;
}

describe("freeing a request body's pieces once they are copied", () => {
  it('frees every piece that is the whole of its buffer, leaves views into a shared buffer alone, and stores every byte in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 700 }), view: fc.boolean() }), { minLength: 0, maxLength: 14 }),
        fc.integer({ min: 1, max: 512 }),
        fc.option(fc.integer({ min: 0, max: 1500 }), { nil: undefined }),
        async (shapes, bufferSize, smallLimit) => {
          // views are cut from one shared buffer that must come out of the upload untouched
          const shared = ownPiece(shapes.reduce((sum, { size }) => sum + size, 0) + 1);
          const sharedBefore = Buffer.from(shared);
          let cut = 0;
          const pieces = shapes.map(({ size, view }) => (view ? shared.subarray(cut, (cut += size)) : ownPiece(size)));
          const sent = Buffer.concat(pieces);
          const pool = new BufferPool(bufferSize, 2);
          let body: AsyncIterable<Uint8Array> = disposablePieces(piecesOf(pieces));
          // a body first read for a small blob and handed on as the rest keeps its pieces' owner
          if (smallLimit !== undefined) {
            const read = await readSmallBody(body, smallLimit);
            if (read.small) {
              expect(read.bytes.equals(sent)).toBe(true);
              return;
            }
            body = read.body;
          }
          const upload = await freshUpload();
          await writeBody(body, upload.writer, () => undefined, pool);
          await committed(upload.writer);
          expect(sent.length === 0 || upload.contents().equals(sent)).toBe(true);
          for (const [i, piece] of pieces.entries()) {
            if (shapes[i]!.view) expect(piece.length).toBe(shapes[i]!.size);
            else expect(piece.buffer.byteLength, `piece ${i} of ${shapes[i]!.size} bytes was not freed`).toBe(0);
          }
          expect(shared.equals(sharedBefore)).toBe(true);
          expect(pool.available).toBe(2);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("leaves the pieces of a body nobody marked (an embedder's own buffers) as they are", async () => {
    const pieces = [ownPiece(300), ownPiece(70_000), ownPiece(5)];
    const copies = pieces.map((piece) => Buffer.from(piece));
    const upload = await freshUpload();
    await writeBody(piecesOf(pieces), upload.writer, () => undefined, new BufferPool(256, 2));
    await committed(upload.writer);
    expect(upload.contents().equals(Buffer.concat(copies))).toBe(true);
    expect(pieces.map((piece, i) => piece.equals(copies[i]!))).toEqual([true, true, true]);
  });

  it('frees only the pieces it has finished with when a write fails', async () => {
    const pool = new BufferPool(128, 1);
    const upload = await freshUpload();
    const failing: FileWriter = {
      get size() {
        return upload.writer.size;
      },
      write: async () => {
        throw new Error('disk full');
      },
      close: () => upload.writer.close(),
      cancel: () => upload.writer.cancel(),
      commit: () => upload.writer.commit(),
    };
    const pieces = [ownPiece(128), ownPiece(128), ownPiece(128)];
    const copies = pieces.map((piece) => Buffer.from(piece));
    await expect(writeBody(disposablePieces(piecesOf(pieces)), failing, () => undefined, pool)).rejects.toThrow('disk full');
    // the first piece was copied and freed; the one being copied when the failure surfaced is intact
    expect(pieces[0]!.buffer.byteLength).toBe(0);
    expect(pieces[1]!.equals(copies[1]!)).toBe(true);
    await upload.writer.close();
  });
});

describe('the length a request declared for its body', () => {
  /** The upload's real writer, recording the sizes it is told to expect. */
  function expecting(writer: FileWriter): { writer: FileWriter; told: number[] } {
    const told: number[] = [];
    return {
      told,
      writer: {
        get size() {
          return writer.size;
        },
        write: (chunk, signal) => writer.write(chunk, signal),
        close: (signal) => writer.close(signal),
        cancel: (signal) => writer.cancel(signal),
        commit: (signal) => writer.commit(signal),
        expectSize: (size) => {
          told.push(size);
          writer.expectSize?.(size);
        },
      },
    };
  }

  it('tells the writer the size it will reach, counted from where an appending writer starts', async () => {
    const first = randomBytes(3_000);
    const second = randomBytes(5_000);
    const upload = await freshUpload();
    const opening = expecting(upload.writer);
    await writeBody(withDeclaredLength(piecesOf([first]), first.length), opening.writer, () => undefined, new BufferPool(1024, 2));
    await upload.writer.close();
    expect(opening.told).toEqual([3_000]);

    const appending = expecting(await driver.writer(upload.path, true));
    await writeBody(withDeclaredLength(piecesOf([second.subarray(0, 2_000), second.subarray(2_000)]), second.length), appending.writer, () => undefined, new BufferPool(1024, 2));
    await committed(appending.writer);
    expect(appending.told).toEqual([8_000]);
    expect(upload.contents().equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('tells nothing for a body that declared no length', async () => {
    const upload = await freshUpload();
    const plain = expecting(upload.writer);
    await writeBody(piecesOf([randomBytes(100)]), plain.writer, () => undefined, new BufferPool(64, 2));
    await committed(plain.writer);
    expect(plain.told).toEqual([]);
  });
});
