/**
 * `http.hashthread` decides where upload bodies are hashed: on the process's upload hash thread when true, on
 * the request loop when false, and when absent (`auto`) on the thread only where the machine has more CPUs than
 * processes serving (hash-thread-choice.ts). Each push here is larger than the 64 KiB that is always hashed
 * inline, and is read back under the digest computed here.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { uploadHashThread } from '../../src/registry/upload-hash.js';
import { startRegistry, type RunningRegistry } from '../../src/embed.js';
import { createDriver } from '../../plugins/inmemory/src/index.js';
import { createDriverContext } from '../../src/testing/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { pushBlobInSession, pushBlobMonolithic, sha256 } from '../support/push-by-url.js';

let running: RunningRegistry | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function pushAndRead(http: { hashthread?: boolean | 'auto' }): Promise<void> {
  const driver = createDriver({}, createDriverContext('inmemory')) as StorageDriver;
  running = await startRegistry({ driver, deleteEnabled: true, http });
  for (const push of [pushBlobMonolithic, pushBlobInSession]) {
    const blob = randomBytes(1024 * 1024 + 17);
    expect(await push(running.url, 'hashing/where', blob)).toBe(201);
    const pulled = await fetch(`${running.url}/v2/hashing/where/blobs/${sha256(blob)}`);
    expect(pulled.status).toBe(200);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(blob)).toBe(true);
  }
}

// one file, one process: the thread is the process's own, so the case that starts none runs first
describe('http.hashthread', () => {
  it('false: uploads are hashed on the request loop and no hash thread starts', async () => {
    await pushAndRead({ hashthread: false });
    expect(uploadHashThread.started).toBe(false);
  });

  it('absent (auto): the hash thread starts with the first upload when a CPU is left over for it, and only then', async () => {
    await pushAndRead({});
    expect(uploadHashThread.started).toBe(os.availableParallelism() > 1);
    await uploadHashThread.terminate();
    expect(uploadHashThread.started).toBe(false);
  });

  it('true: uploads are hashed on the hash thread, which starts with the first upload', async () => {
    await pushAndRead({ hashthread: true });
    expect(uploadHashThread.started).toBe(true);
    await uploadHashThread.terminate();
  });
});
