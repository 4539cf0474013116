/**
 * An upload a client breaks off, or the registry refuses, leaves no file of the storage open: every
 * descriptor the filesystem driver's writer opened on a partial upload is closed once the request is over,
 * counted in /proc/self/fd (stowage runs in this process) by what each descriptor points to.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descriptorsUnder } from '../support/open-descriptors.js';
import { createFilesystemDriver } from '../support/stowage.js';
import { startTestRegistry, type TestRegistry } from './support/registry.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

let root: string;
let registry: TestRegistry;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stowage-upload-descriptors-'));
  registry = await startTestRegistry({ driver: await createFilesystemDriver(root) });
});
afterAll(async () => {
  await registry?.close();
  await rm(root, { recursive: true, force: true });
});

const storageDescriptors = (): string[] => descriptorsUnder(root);

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function startUpload(repository: string): Promise<string> {
  const response = await registry.send('POST', `/v2/${repository}/blobs/uploads/`);
  expect(response.status).toBe(202);
  return response.headers.location as string;
}

/** A socket that sent `head` and `body` and is then destroyed, once the server has read part of it. */
async function abortedRequest(head: string, body: Uint8Array): Promise<void> {
  const { port } = new URL(registry.url);
  const socket: Socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  socket.write(head);
  // the body in pieces, so the server is mid-stream (and has written some of it) when the client goes
  for (let at = 0; at < body.length; at += 256 * 1024) {
    if (!socket.write(body.subarray(at, at + 256 * 1024))) await once(socket, 'drain');
  }
  socket.destroy();
}

/** The upload's status: answered once every request on the session before it has finished (they are serialised). */
async function settledStatus(location: string): Promise<number> {
  return (await registry.send('GET', location)).status;
}

describe('descriptors of an upload that does not complete', () => {
  it('none stays open after aborted PATCHes and PUTs, a refused digest, a refused range, or an aborted monolithic POST', async () => {
    expect(storageDescriptors()).toEqual([]);
    const big = randomBytes(6 * 1024 * 1024);

    // a chunked PATCH whose client goes mid-body, past an early sync (2 MiB)
    const chunked = await startUpload('fd/chunked');
    await abortedRequest(`PATCH ${chunked} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${big.length * 2}\r\n\r\n`, big);
    expect(await settledStatus(chunked)).toBe(204);

    // the closing PUT whose client goes mid-body
    const closing = await startUpload('fd/closing');
    await abortedRequest(`PUT ${closing}${closing.includes('?') ? '&' : '?'}digest=${sha256(big)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${big.length}\r\n\r\n`, big.subarray(0, 3 * 1024 * 1024));
    expect(await settledStatus(closing)).toBe(204);

    // a closing PUT whose bytes are not the digest it names: refused, the session cancelled
    const refused = await startUpload('fd/refused');
    const wrong = await registry.send('PUT', `${refused}${refused.includes('?') ? '&' : '?'}digest=${sha256(Buffer.from('other'))}`, { body: big, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(wrong.status).toBe(400);
    expect(await settledStatus(refused)).toBe(404);

    // a chunk that does not start where the upload ends
    const ranged = await startUpload('fd/ranged');
    const first = await registry.send('PATCH', ranged, { body: big.subarray(0, 1024), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-1023' } });
    expect(first.status).toBe(202);
    const gap = await registry.send('PATCH', first.headers.location as string, { body: big.subarray(0, 1024), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '2048-3071' } });
    expect(gap.status).toBe(416);
    expect(await settledStatus(ranged)).toBe(204);

    // a monolithic POST (too big for the small-blob path) whose client goes mid-body
    await abortedRequest(`POST /v2/fd/monolithic/blobs/uploads/?digest=${sha256(big)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${big.length}\r\n\r\n`, big.subarray(0, 3 * 1024 * 1024));

    // Every session above has settled (its status answered after its last request). A monolithic POST has no
    // session to ask: its descriptor must go once the server has torn the request down, which it does within
    // moments; what may stay open meanwhile is only that upload's.
    const deadline = Date.now() + 10_000;
    let left = storageDescriptors();
    while (left.length > 0 && Date.now() < deadline) {
      expect(left.every((target) => target.includes('/fd/monolithic/'))).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
      left = storageDescriptors();
    }
    expect(left).toEqual([]);
  });
});
