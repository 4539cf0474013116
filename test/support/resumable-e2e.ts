import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicBuffer } from './deterministic-bytes.js';
import { sha256Digest } from './oci-layout.js';
import { freeLoopbackPort } from './ports.js';
import { pullAndHash } from './memory.js';
import type { RunningRegistry } from './registry-under-test.js';

/** Starts a registry process on a fixed port over a fixed storage folder (so it can be restarted). */
export type StartOnFolder = (options: { port: number; rootdirectory: string }) => Promise<RunningRegistry>;

function header(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** A chunked upload begun before the registry process restarts completes after it. */
export function describeResumableUpload(name: string, start: StartOnFolder): void {
  describe(`resumable upload across a restart: ${name}`, () => {
    const MiB = 1024 * 1024;
    const content = deterministicBuffer(`resumable-${name}`, 13 * MiB);
    const firstChunk = content.subarray(0, 8 * MiB);
    const secondChunk = content.subarray(8 * MiB);
    const digest = sha256Digest(content);
    let rootdirectory: string;
    let port: number;
    let registry: RunningRegistry | undefined;
    let sessionPath = '';

    beforeAll(async () => {
      rootdirectory = await mkdtemp(path.join(os.tmpdir(), 'stowage-resumable-'));
      port = await freeLoopbackPort();
      registry = await start({ port, rootdirectory });
    });
    afterAll(async () => {
      await registry?.close();
      await rm(rootdirectory, { recursive: true, force: true });
    });

    it('accepts the first chunk of an upload', async () => {
      const session = await request(`${registry!.url}/v2/resumable/app/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
      await session.body.dump();
      expect(session.statusCode).toBe(202);
      const patch = await request(new URL(header(session.headers.location), registry!.url), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${firstChunk.length - 1}` },
        body: firstChunk,
      });
      await patch.body.dump();
      expect(patch.statusCode).toBe(202);
      expect(header(patch.headers.range)).toBe(`0-${firstChunk.length - 1}`);
      const location = new URL(header(patch.headers.location), registry!.url);
      sessionPath = location.pathname + location.search;
    });

    it('reports the bytes already received after the server process restarts', async () => {
      expect(sessionPath).not.toBe('');
      await registry!.close();
      registry = undefined;
      registry = await start({ port, rootdirectory });
      const status = await request(`${registry.url}${sessionPath}`);
      await status.body.dump();
      expect(status.statusCode).toBe(204);
      expect(header(status.headers.range)).toBe(`0-${firstChunk.length - 1}`);
      const location = new URL(header(status.headers.location), registry.url);
      sessionPath = location.pathname + location.search;
    });

    it('takes the second chunk and completes the upload with the digest of the whole blob', async () => {
      const patch = await request(`${registry!.url}${sessionPath}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${firstChunk.length}-${content.length - 1}` },
        body: secondChunk,
      });
      const patchBody = await patch.body.text();
      expect(patch.statusCode, patchBody).toBe(202);
      expect(header(patch.headers.range)).toBe(`0-${content.length - 1}`);
      const target = new URL(header(patch.headers.location), registry!.url);
      target.searchParams.set('digest', digest);
      const put = await request(target, { method: 'PUT', headers: { 'content-length': '0' } });
      const putBody = await put.body.text();
      expect(put.statusCode, putBody).toBe(201);
      expect(header(put.headers['docker-content-digest'])).toBe(digest);
      const pulled = await pullAndHash(registry!.url, 'resumable/app', digest);
      expect(pulled).toEqual({ digest, size: content.length });
    });

    it('a chunk cut off mid-body leaves the session at what it kept, and the upload completes from there', async () => {
      const base = registry!.url;
      const session = await request(`${base}/v2/resumable/cut/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
      await session.body.dump();
      const first = await request(new URL(header(session.headers.location), base), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${MiB - 1}` },
        body: content.subarray(0, MiB),
      });
      await first.body.dump();
      expect(first.statusCode).toBe(202);
      const location = new URL(header(first.headers.location), base);
      // the client dies 3 MiB into a 12 MiB chunk
      await cutOffPatch(location, content.subarray(MiB), MiB, 3 * MiB);
      const status = await request(location);
      await status.body.dump();
      expect(status.statusCode).toBe(204);
      const kept = Number(/^0-(\d+)$/.exec(header(status.headers.range))?.[1] ?? Number.NaN) + 1;
      expect(kept).toBeGreaterThanOrEqual(MiB);
      expect(kept).toBeLessThanOrEqual(4 * MiB);
      const rest = await request(new URL(header(status.headers.location), base), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${kept}-${content.length - 1}` },
        body: content.subarray(kept),
      });
      const restBody = await rest.body.text();
      expect(rest.statusCode, restBody).toBe(202);
      const target = new URL(header(rest.headers.location), base);
      target.searchParams.set('digest', digest);
      const put = await request(target, { method: 'PUT', headers: { 'content-length': '0' } });
      const putBody = await put.body.text();
      expect(put.statusCode, putBody).toBe(201);
      expect(await pullAndHash(base, 'resumable/cut', digest)).toEqual({ digest, size: content.length });
    });
  });
}

/** Sends a PATCH announcing all of `chunk` but writes only `sendBytes` of it, then drops the connection. */
async function cutOffPatch(location: URL, chunk: Buffer, offset: number, sendBytes: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const patch = http.request(location, {
      method: 'PATCH',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length),
        'content-range': `${offset}-${offset + chunk.length - 1}`,
      },
    });
    patch.on('error', () => resolve());
    patch.on('response', (response) => {
      response.resume();
      resolve();
    });
    patch.write(chunk.subarray(0, sendBytes), () => setTimeout(() => patch.destroy(), 200));
  });
  // give the server a moment to notice the dropped connection and settle the session
  await new Promise((resolve) => setTimeout(resolve, 300));
}
