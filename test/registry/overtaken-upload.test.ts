/**
 * Two registry processes (two UploadSessions, two filesystem driver instances on one folder) receive
 * chunks of one upload at the same time: the first to write continues the upload, the other chunk is
 * refused as RANGE_INVALID (416 at the API) with the size the upload now has, and nothing acknowledged
 * is lost: the blob that is finally pushed is exactly the acknowledged chunks.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { parseDigest } from '../../src/registry/digest.js';
import { StorageLayout } from '../../src/registry/layout.js';
import { silentLogger } from '../../src/registry/logger.js';
import { RegistryStorage } from '../../src/registry/storage.js';
import { UploadSessions } from '../../src/registry/uploads.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';

const root = mkdtempSync(join(tmpdir(), 'stowage-overtaken-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A request body that says when the registry starts reading it (its writer is open) and waits to be let through. */
function heldBody(bytes: Buffer): { body: AsyncIterable<Uint8Array>; reading: Promise<void>; release: () => void } {
  let started!: () => void;
  let release!: () => void;
  const reading = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const body = (async function* () {
    started();
    await released;
    yield bytes;
  })();
  return { body, reading, release };
}

async function* once(bytes: Buffer): AsyncIterable<Uint8Array> {
  yield bytes;
}

function registryProcess(): UploadSessions {
  const driver = createDriver({ rootdirectory: join(root, 'registry') }, createDriverContext('filesystem')) as StorageDriver;
  return new UploadSessions(new RegistryStorage(driver), new StorageLayout(), silentLogger);
}

describe('one upload, chunks arriving at two registry processes at once', () => {
  it('continues with the first chunk written, refuses the other as RANGE_INVALID with the new size, and loses nothing acknowledged', async () => {
    const [first, second] = [registryProcess(), registryProcess()];
    const [head, winner, rival, tail] = [randomBytes(70_000), randomBytes(50_000), randomBytes(40_000), randomBytes(9_000)];
    const { id } = await first.start('team/app');
    expect((await first.append('team/app', id, once(head))).size).toBe(head.length);

    // both processes open their writers at the same size before either has written
    const a = heldBody(winner);
    const b = heldBody(rival);
    const viaFirst = first.append('team/app', id, a.body);
    const viaSecond = second.append('team/app', id, b.body);
    await Promise.all([a.reading, b.reading]);
    a.release();
    expect((await viaFirst).size).toBe(head.length + winner.length);
    b.release();
    await expect(viaSecond).rejects.toMatchObject({ code: 'RANGE_INVALID', detail: { size: head.length + winner.length } });

    expect((await second.status('team/app', id)).size).toBe(head.length + winner.length);
    const content = Buffer.concat([head, winner, tail]);
    const digest = parseDigest(`sha256:${createHash('sha256').update(content).digest('hex')}`);
    const blob = await second.finish('team/app', id, digest, once(tail));
    expect(blob).toEqual({ digest: digest.value, size: content.length });
  });
});
