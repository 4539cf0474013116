/**
 * Blobs pushed whole in one body (POST ?digest=, or POST then PUT ?digest=) of up to 64 KiB are verified in
 * memory and stored with one putContent, without the upload session's data file; larger ones stream through
 * the session as before. Either way the stored blob is what was sent, a body that does not match its digest
 * changes nothing stored, and no session is left behind. Bodies of sizes on both sides of the limit arrive in
 * pieces of random sizes (chunked transfer), as a client streaming them sends them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { SMALL_BLOB_BYTES } from '../../src/registry/small-body.js';
import { createDriverContext } from '../../src/testing/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { storedPaths } from '../support/storage-snapshot.js';
import { sha256, startTestRegistry, type TestRegistry } from './support/registry.js';

const REPOSITORY = 'small/blobs';

/** a body of `size` bytes (a pattern from `seed`), cut at the given points */
function piecesOf(size: number, seed: number, cuts: number[]): { content: Buffer; pieces: Buffer[] } {
  const content = Buffer.alloc(size);
  for (let i = 0; i < size; i++) content[i] = (i * 31 + seed) & 0xff;
  const points = [...new Set(cuts.map((cut) => cut % (size + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const point of [...points, size]) {
    if (point > from) pieces.push(content.subarray(from, point));
    from = Math.max(from, point);
  }
  return { content, pieces };
}

async function* streamed(pieces: Buffer[]): AsyncGenerator<Buffer> {
  for (const piece of pieces) yield piece;
}

describe('small blobs pushed whole, on the filesystem driver', () => {
  let workdir: string;
  let driver: StorageDriver;
  let registry: TestRegistry;

  beforeAll(async () => {
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-small-blobs-'));
    driver = createDriver({ rootdirectory: workdir }, createDriverContext('filesystem')) as StorageDriver;
    registry = await startTestRegistry({ driver });
  });
  afterAll(async () => {
    await registry?.close();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  const send = async (method: 'POST' | 'PUT', target: string, pieces: Buffer[]): Promise<{ status: number; code?: string; location?: string }> => {
    const response = await request(`${registry.url}${target}`, { method, body: Readable.from(streamed(pieces), { objectMode: false }), headers: { 'content-type': 'application/octet-stream' } });
    const text = await response.body.text();
    const code = response.statusCode >= 400 ? (JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code : undefined;
    return { status: response.statusCode, ...(code ? { code } : {}), ...(typeof response.headers.location === 'string' ? { location: response.headers.location } : {}) };
  };

  const sizes = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: SMALL_BLOB_BYTES - 8, max: SMALL_BLOB_BYTES + 8 }), fc.integer({ min: 0, max: 3 * SMALL_BLOB_BYTES }));

  it('stores exactly what was sent, or nothing when the digest does not match, and leaves no session behind', async () => {
    await fc.assert(
      fc.asyncProperty(sizes, fc.nat(255), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), fc.boolean(), async (size, seed, cuts, inOneRequest, digestMatches) => {
        const { content, pieces } = piecesOf(size, seed, cuts);
        const digest = digestMatches ? sha256(content) : sha256(Buffer.concat([content, Buffer.from('x')]));
        const before = await storedPaths(driver);
        let answer;
        if (inOneRequest) {
          answer = await send('POST', `/v2/${REPOSITORY}/blobs/uploads/?digest=${digest}`, pieces);
        } else {
          const started = await registry.send('POST', `/v2/${REPOSITORY}/blobs/uploads/`);
          expect(started.status).toBe(202);
          answer = await send('PUT', `${started.headers.location}?digest=${digest}`, pieces);
          // the session is over either way
          expect((await registry.send('GET', started.headers.location!)).status).toBe(404);
        }
        const after = await storedPaths(driver);
        expect(after.filter((stored) => stored.includes('/_uploads/'))).toEqual([]);
        if (digestMatches) {
          expect(answer.status).toBe(201);
          expect(answer.location).toBe(`/v2/${REPOSITORY}/blobs/${digest}`);
          const served = await registry.send('GET', `/v2/${REPOSITORY}/blobs/${digest}`);
          expect(served.status).toBe(200);
          expect(served.body.equals(content)).toBe(true);
        } else {
          expect(answer).toMatchObject({ status: 400, code: 'DIGEST_INVALID' });
          // beside sessions, the first session writes the key its id is signed with (src/registry/upload-tokens.ts)
          const held = (stored: string): boolean => !stored.includes('/_uploads/') && !stored.startsWith('/_stowage/uploads/keys/');
          expect(after.filter(held)).toEqual(before.filter(held));
        }
      }),
      { numRuns: 40 },
    );
  });
});
