/**
 * An upload's running hash is computed on the upload hash thread, from the pool's batches read in place.
 * Whatever the chunking, the blob is accepted under its true digest and refused under any other; a session
 * continued by a second registry process (which never hashed the earlier chunks) is hashed from storage; a
 * hash thread killed mid-upload loses no upload (the commit hashes what storage holds) and is replaced; and
 * every batch goes back to the pool, also after uploads whose clients went away. Digests are computed here
 * with node:crypto over the bytes sent, never by the code under test. The filesystem driver is real.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { parseDigest, type Digest, type DigestAlgorithm } from '../../src/registry/digest.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { silentLogger } from '../../src/registry/logger.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { uploadBatches } from '../../src/registry/upload-body.js';
import { HashThread, uploadHashThread } from '../../src/registry/upload-hash.js';
import { UploadSessions, UploadSessionsState } from '../../src/registry/uploads.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';

const root = mkdtempSync(join(tmpdir(), 'stowage-upload-hash-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A registry process's upload sessions: its own driver instance and its own running hashes, one storage folder. */
function registryProcess(): { sessions: UploadSessions; driver: StorageDriver; rehashed: () => number } {
  const driver = createDriver({ rootdirectory: join(root, 'registry') }, createDriverContext('filesystem')) as StorageDriver;
  let rehashes = 0;
  // the registry says at debug level when it reads an upload back from storage to hash it
  const logger = { ...silentLogger, debug: (_: object, message: string) => void (message.includes('re-hashing') && rehashes++) };
  return { sessions: new UploadSessions(new RegistryStorage(driver), new StorageLayout(), logger, new UploadSessionsState(uploadHashThread)), driver, rehashed: () => rehashes };
}

const digestOf = (bytes: Buffer, algorithm: DigestAlgorithm = 'sha256'): Digest => parseDigest(`${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`);

/** A body in pieces of the given sizes (as the HTTP parser hands them out). */
async function* piecesOf(bytes: Buffer, pieceSize: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += pieceSize) yield bytes.subarray(at, at + pieceSize);
}

/** Cuts `bytes` at the given fractions of its length: the chunks of an upload, in order. */
function cut(bytes: Buffer, fractions: number[]): Buffer[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return chunks;
}

const first = registryProcess();
const second = registryProcess();
let repositories = 0;

describe('an upload hashed on the hash thread', () => {
  it('accepts a blob in any chunking under its true digest, also when a second process finishes a session it did not hash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 70 * 1024, max: 1200 * 1024 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 80 * 1024 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom<DigestAlgorithm>('sha256', 'sha512'),
        async (size, fractions, pieceSize, handOver, algorithm) => {
          const content = randomBytes(size);
          const chunks = cut(content, fractions);
          const name = `hash/r${repositories++}`;
          const { id } = await first.sessions.start(name, algorithm);
          // chunks from `handOver` on (and the closing PUT) go to the second process
          for (const [index, chunk] of chunks.entries()) {
            const via = index < handOver ? first : second;
            await via.sessions.append(name, id, piecesOf(chunk, pieceSize));
          }
          const closer = chunks.length > handOver ? second : first;
          const digest = digestOf(content, algorithm);
          const blob = await closer.sessions.finish(name, id, digest, undefined);
          expect(blob).toEqual({ digest: digest.value, size });
        },
      ),
      { numRuns: 25 },
    );
    expect(uploadBatches.available).toBe(uploadBatches.capacity);
  });

  it('hashes an upload in one process as it arrives, sha256 or sha512: the commit reads nothing back from storage', async () => {
    const before = first.rehashed();
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const content = randomBytes(2 * 1024 * 1024 + 12_345);
      const name = `hash/r${repositories++}`;
      const { id } = await first.sessions.start(name, algorithm);
      await first.sessions.append(name, id, piecesOf(content.subarray(0, 1_000_000), 65_536));
      const digest = digestOf(content, algorithm);
      expect(await first.sessions.finish(name, id, digest, piecesOf(content.subarray(1_000_000), 16_000))).toEqual({ digest: digest.value, size: content.length });
    }
    expect(first.rehashed()).toBe(before);
  });

  it('refuses a blob under a digest it does not have, and keeps nothing of it', async () => {
    const content = randomBytes(300 * 1024);
    const name = `hash/r${repositories++}`;
    const { id } = await first.sessions.start(name);
    await first.sessions.append(name, id, piecesOf(content.subarray(0, 100_000), 65_536));
    const wrong = digestOf(Buffer.concat([content, Buffer.from('x')]));
    await expect(first.sessions.finish(name, id, wrong, piecesOf(content.subarray(100_000), 65_536))).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
      detail: { actual: digestOf(content).value },
    });
    // verified before anything is committed: neither digest's place in the blob store holds anything
    for (const digest of [wrong, digestOf(content)]) expect(await first.driver.stat(new StorageLayout().blobData(digest)).catch(() => undefined)).toBeUndefined();
    await expect(first.sessions.status(name, id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
  });

  it('loses no upload when the hash thread dies mid-upload, and hashes the next upload on a new thread', async () => {
    const content = randomBytes(3 * 1024 * 1024);
    const name = `hash/r${repositories++}`;
    const { id } = await first.sessions.start(name);
    let halfway!: () => void;
    const reachedHalfway = new Promise<void>((resolve) => (halfway = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const body = (async function* () {
      const half = content.length / 2;
      yield* piecesOf(content.subarray(0, half), 65_536);
      halfway();
      await resumed;
      yield* piecesOf(content.subarray(half), 65_536);
    })();
    const rehashesBefore = first.rehashed();
    const finishing = first.sessions.finish(name, id, digestOf(content), body);
    await reachedHalfway;
    await uploadHashThread.terminate();
    resume();
    expect(await finishing).toEqual({ digest: digestOf(content).value, size: content.length });
    expect(first.rehashed()).toBe(rehashesBefore + 1);

    // a chunked upload across the death: chunks before it were hashed by the dead thread
    const chunked = randomBytes(900 * 1024);
    const next = `hash/r${repositories++}`;
    const session = await first.sessions.start(next);
    await first.sessions.append(next, session.id, piecesOf(chunked.subarray(0, 400 * 1024), 65_536));
    await uploadHashThread.terminate();
    await first.sessions.append(next, session.id, piecesOf(chunked.subarray(400 * 1024), 65_536));
    expect(await first.sessions.finish(next, session.id, digestOf(chunked), undefined)).toEqual({ digest: digestOf(chunked).value, size: chunked.length });

    // a new upload is hashed by a new thread: its hash is not lost, and it gives the true digest
    const fresh = uploadHashThread.open('sha256');
    const bytes = Buffer.from(new SharedArrayBuffer(1000));
    bytes.set(randomBytes(1000));
    await fresh.update(bytes);
    expect(fresh.lost).toBe(false);
    expect(await fresh.digest()).toBe(digestOf(bytes).value);
    fresh.dispose();
    expect(uploadBatches.available).toBe(uploadBatches.capacity);
  });

  it('gives every batch back to the pool after uploads whose clients went away mid-body', async () => {
    const uploads = await Promise.all(
      Array.from({ length: 12 }, async (_, index) => {
        const name = `hash/r${repositories++}`;
        const { id } = await first.sessions.start(name);
        const sent = randomBytes(200 * 1024 + index * 37_000);
        const body = (async function* () {
          yield* piecesOf(sent, 65_536);
          throw new Error('the client went away');
        })();
        await expect(first.sessions.append(name, id, body)).rejects.toThrow('the client went away');
        return { name, id, sent };
      }),
    );
    expect(uploadBatches.available).toBe(uploadBatches.capacity);
    expect(uploadBatches.waiters).toBe(0);
    // what each received before its client went away is kept, and the upload resumes from there
    for (const { name, id, sent } of uploads) {
      expect((await first.sessions.status(name, id)).size).toBe(sent.length);
      const rest = randomBytes(1000);
      const whole = Buffer.concat([sent, rest]);
      expect(await first.sessions.finish(name, id, digestOf(whole), piecesOf(rest, 1000))).toEqual({ digest: digestOf(whole).value, size: whole.length });
    }
  });
});

describe('the upload hash thread stopping', () => {
  it('tells each listener when a running thread stops (its hashes lost), until the listener unsubscribes', async () => {
    const thread = new HashThread();
    const toldFirst: number[] = [];
    const unsubscribeFirst = thread.onStopped((exitCode) => toldFirst.push(exitCode));
    const stopped = (): Promise<number> => new Promise((resolve) => {
      const unsubscribe = thread.onStopped((exitCode) => {
        unsubscribe();
        resolve(exitCode);
      });
    });

    const hash = thread.open('sha256');
    const firstStop = stopped();
    await thread.terminate();
    await firstStop;
    expect(toldFirst).toHaveLength(1);
    expect(hash.lost).toBe(true);

    unsubscribeFirst();
    thread.start();
    const secondStop = stopped();
    await thread.terminate();
    await secondStop;
    expect(toldFirst).toHaveLength(1);
  });
});
