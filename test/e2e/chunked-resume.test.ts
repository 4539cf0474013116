/**
 * Chunked uploads on the filesystem driver across `stowage serve` processes. A process keeps the running
 * sha256 of the sessions it received chunks for, in memory only: another process (a second worker, a
 * restart) has none, and a process whose hash fell behind (another process appended meanwhile) must not use
 * it. Both finish by hashing the stored bytes again. A process killed in the middle of a chunk shows nothing
 * of the blob, and the upload goes on from the bytes that reached storage.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { deterministicBuffer, startStowageProcess, type StowageProcess } from '../support/index.js';

const REPOSITORY = 'chunked/resume';
const MiB = 1024 * 1024;
const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function storageRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-chunked-resume-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

async function serve(rootdirectory: string): Promise<StowageProcess> {
  const server = await startStowageProcess({ rootdirectory });
  cleanups.push(() => server.close());
  return server;
}

/** The upload's path (`/v2/.../blobs/uploads/<id>`), the same on every process. */
async function startUpload(server: StowageProcess): Promise<string> {
  const response = await request(`${server.url}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST' });
  await response.body.dump();
  expect(response.statusCode).toBe(202);
  return new URL(String(response.headers.location), server.url).pathname;
}

async function patch(server: StowageProcess, upload: string, content: Buffer, from: number, to: number): Promise<void> {
  const response = await request(`${server.url}${upload}`, {
    method: 'PATCH',
    body: content.subarray(from, to),
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
  });
  const text = await response.body.text();
  expect({ status: response.statusCode, range: response.headers.range, text }).toEqual({ status: 202, range: `0-${to - 1}`, text: '' });
}

async function finish(server: StowageProcess, upload: string, digest: string): Promise<{ status: number; code?: string }> {
  const response = await request(`${server.url}${upload}?digest=${digest}`, { method: 'PUT' });
  const text = await response.body.text();
  return response.statusCode === 201 ? { status: 201 } : { status: response.statusCode, code: (JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code };
}

async function pulledDigest(server: StowageProcess, digest: string): Promise<{ status: number; digest?: string }> {
  const response = await request(`${server.url}/v2/${REPOSITORY}/blobs/${digest}`);
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return response.statusCode === 200 ? { status: 200, digest: sha256(bytes) } : { status: response.statusCode };
}

describe('a chunked upload moving between stowage processes on one folder', () => {
  it('finishes with the right digest on either process, the one whose running hash fell behind hashing the stored bytes', async () => {
    const root = await storageRoot();
    const [first, second] = await Promise.all([serve(root), serve(root)]);
    const content = deterministicBuffer('chunked-resume-moving', 3 * MiB + 123);
    const digest = sha256(content);

    // begun on the first (which then holds the hash of 1 MiB), continued on the second, then on the first again
    const upload = await startUpload(first);
    await patch(first, upload, content, 0, MiB);
    await patch(second, upload, content, MiB, 2 * MiB);
    await patch(first, upload, content, 2 * MiB, content.length);
    expect(await finish(first, upload, digest)).toEqual({ status: 201 });
    expect(await pulledDigest(second, digest)).toEqual({ status: 200, digest });

    // finished on the process that never held its hash
    const other = deterministicBuffer('chunked-resume-other', 2 * MiB + 7);
    const otherUpload = await startUpload(first);
    await patch(first, otherUpload, other, 0, MiB);
    await patch(second, otherUpload, other, MiB, other.length);
    expect(await finish(second, otherUpload, sha256(other))).toEqual({ status: 201 });
    expect(await pulledDigest(first, sha256(other))).toEqual({ status: 200, digest: sha256(other) });
  }, 120_000);

  it('refuses the digest of what the first process alone received once another process appended to the upload', async () => {
    const root = await storageRoot();
    const [first, second] = await Promise.all([serve(root), serve(root)]);
    const content = deterministicBuffer('chunked-resume-stale', 2 * MiB);
    const upload = await startUpload(first);
    await patch(first, upload, content, 0, MiB);
    await patch(second, upload, content, MiB, content.length);
    // the first process's own running hash covers the first MiB only: a commit trusting it would take this
    const stale = sha256(content.subarray(0, MiB));
    expect(await finish(first, upload, stale)).toEqual({ status: 400, code: 'DIGEST_INVALID' });
    expect(await pulledDigest(second, stale)).toEqual({ status: 404 });
  }, 120_000);
});

describe('a stowage process killed in the middle of a chunk', () => {
  it('leaves nothing of the blob visible, and the upload resumes on the restarted process from the bytes it stored', async () => {
    const root = await storageRoot();
    const content = deterministicBuffer('chunked-resume-crash', 3 * MiB);
    const digest = sha256(content);
    const killed = await serve(root);
    const upload = await startUpload(killed);
    await patch(killed, upload, content, 0, MiB);

    // the next chunk arrives in part: the process writes some of it, then dies before answering
    const partial = path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_uploads', upload.split('/').at(-1)!, 'data~partial');
    const body = new PassThrough();
    const interrupted = request(`${killed.url}${upload}`, {
      method: 'PATCH',
      body,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${MiB}-${content.length - 1}` },
    }).catch((err: unknown) => err);
    const sent = MiB / 2;
    body.write(content.subarray(MiB, MiB + sent));
    const deadline = Date.now() + 30_000;
    while ((statSync(partial, { throwIfNoEntry: false })?.size ?? 0) <= MiB) {
      if (Date.now() > deadline) throw new Error(`the process wrote nothing of the second chunk to ${partial}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const exited = once(killed.server.child, 'exit');
    killed.server.child.kill('SIGKILL');
    await exited;
    body.destroy();
    await interrupted;

    const hex = digest.slice('sha256:'.length);
    expect(existsSync(path.join(root, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex)), 'no blob folder for the unfinished upload').toBe(false);
    const restarted = await serve(root);
    expect(await pulledDigest(restarted, digest)).toEqual({ status: 404 });

    const status = await request(`${restarted.url}${upload}`);
    await status.body.dump();
    expect(status.statusCode).toBe(204);
    const stored = Number(/^0-(\d+)$/.exec(String(status.headers.range))?.[1]) + 1;
    expect(stored, 'the status counts the bytes of the interrupted chunk that reached storage').toBeGreaterThan(MiB);
    expect(stored).toBeLessThanOrEqual(MiB + sent);
    await patch(restarted, upload, content, stored, content.length);
    expect(await finish(restarted, upload, digest)).toEqual({ status: 201 });
    expect(await pulledDigest(restarted, digest)).toEqual({ status: 200, digest });
  }, 120_000);
});
