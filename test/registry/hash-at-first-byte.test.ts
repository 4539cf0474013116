/**
 * A session's running hash is opened on the hasher only once a byte arrives for it: a POST then a PUT with the
 * whole small blob opens none, a chunked upload opens one and is accepted under its true digest (computed here
 * with node:crypto), an empty blob too. The filesystem driver is real; the hasher counts what it is asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { parseDigest, type Digest } from '../../src/registry/digest.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { silentLogger } from '../../src/registry/logger.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { inlineHasher, type UploadHasher } from '../../src/registry/upload-hash.js';
import { UploadSessions, UploadSessionsState } from '../../src/registry/uploads.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';

const root = mkdtempSync(join(tmpdir(), 'stowage-hash-at-first-byte-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const digestOf = (bytes: Buffer): Digest => parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

async function* bodyOf(...pieces: Buffer[]): AsyncGenerator<Uint8Array> {
  for (const piece of pieces) yield piece;
}

function sessionsCountingOpens(): { sessions: UploadSessions; opens: () => number } {
  const driver = createDriver({ rootdirectory: root }, createDriverContext('filesystem')) as StorageDriver;
  let opens = 0;
  const hasher: UploadHasher = {
    open(algorithm) {
      opens++;
      return inlineHasher.open(algorithm);
    },
  };
  return { sessions: new UploadSessions(new RegistryStorage(driver), new StorageLayout(), silentLogger, new UploadSessionsState(hasher)), opens: () => opens };
}

describe('an upload session opens its running hash at its first byte', () => {
  it('opens none for a session closed by a PUT with the whole small blob', async () => {
    const { sessions, opens } = sessionsCountingOpens();
    const blob = randomBytes(4096);
    const { id } = await sessions.start('first/byte');
    const stored = await sessions.finish('first/byte', id, digestOf(blob), bodyOf(blob));
    expect(stored).toEqual({ digest: digestOf(blob).value, size: 4096 });
    expect(opens()).toBe(0);
  });

  it('opens one for a chunked upload, which is accepted under its true digest and refused under another', async () => {
    const { sessions, opens } = sessionsCountingOpens();
    const blob = randomBytes(200_000);
    const { id } = await sessions.start('first/byte');
    await sessions.append('first/byte', id, bodyOf(blob.subarray(0, 150_000)), { start: 0, end: 149_999 });
    await sessions.append('first/byte', id, bodyOf(blob.subarray(150_000)), { start: 150_000, end: blob.length - 1 });
    expect(opens()).toBe(1);
    const other = randomBytes(32);
    await expect(sessions.finish('first/byte', id, digestOf(other), undefined)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });

    const again = await sessions.start('first/byte');
    await sessions.append('first/byte', again.id, bodyOf(blob), { start: 0, end: blob.length - 1 });
    expect(await sessions.finish('first/byte', again.id, digestOf(blob), undefined)).toEqual({ digest: digestOf(blob).value, size: blob.length });
  });

  it('gives the digest of no bytes for an empty blob closed with an empty PUT', async () => {
    const { sessions } = sessionsCountingOpens();
    const empty = Buffer.alloc(0);
    const { id } = await sessions.start('first/byte');
    expect(await sessions.finish('first/byte', id, digestOf(empty), undefined)).toEqual({ digest: digestOf(empty).value, size: 0 });
  });
});
