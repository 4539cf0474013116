/**
 * A registry process killed (SIGKILL) in the middle of a PATCH leaves the claim its writer took on the
 * upload's size behind. The client must still be able to resume: the upload's status reports the bytes
 * that were stored before the chunk, and the chunk sent again at that offset is accepted by the restarted
 * process, so the push completes with the right digest. (That a live writer's claim still refuses a
 * conflicting append is the conformance kit's ConflictingAppendRefused, run for every driver.)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { claimIsAbandoned, encodeClaimRecord, newClaimRecord } from '../../packages/backend-kit/src/claim-lease.js';
import { EmulatorCluster } from '../elliptics/emulator.js';
import { startOssEmulator } from '../oss/emulator.js';
import { ossDriverLines, startStowageProcessOn } from '../oss/stowage-process.js';
import { deterministicBuffer, startStowageProcess } from '../support/index.js';
import { PROJECT_ROOT } from '../support/stowage.js';

const REPOSITORY = 'crash/resume';
const FIRST = 200 * 1024;
const content = deterministicBuffer('stale-claim', FIRST + 150 * 1024);
const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
const claimSuffix = `~claim.${String(FIRST).padStart(16, '0')}`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function waitFor(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startUpload(url: string): Promise<string> {
  const started = await request(`${url}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST' });
  await started.body.dump();
  expect(started.statusCode).toBe(202);
  return new URL(String(started.headers.location), url).toString();
}

async function patch(location: string, from: number, to: number): Promise<{ status: number; location: string }> {
  const response = await request(location, {
    method: 'PATCH',
    body: content.subarray(from, to),
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
  });
  const text = await response.body.text();
  return { status: response.statusCode, location: response.headers.location ? new URL(String(response.headers.location), location).toString() : text };
}

/** The upload's status after the restart, the chunk again from the offset it reports, and the commit. */
async function resumeAndFinish(url: string, location: string): Promise<void> {
  const status = await request(location);
  await status.body.dump();
  expect(status.statusCode).toBe(204);
  expect(status.headers.range, 'the status reports the bytes stored before the interrupted chunk').toBe(`0-${FIRST - 1}`);
  const resumed = await patch(location, FIRST, content.length);
  expect(resumed.status, `the chunk sent again at the durable offset is accepted: ${resumed.location}`).toBe(202);
  const finished = await request(`${resumed.location}${resumed.location.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
  await finished.body.dump();
  expect(finished.statusCode).toBe(201);
  const blob = await request(`${url}/v2/${REPOSITORY}/blobs/${digest}`);
  const served = Buffer.from(await blob.body.arrayBuffer());
  expect({ status: blob.statusCode, digest: `sha256:${createHash('sha256').update(served).digest('hex')}` }).toEqual({ status: 200, digest });
}

describe('an upload whose registry process was killed mid-PATCH', () => {
  it('resumes at the durable offset on the restarted process (alioss on the OSS emulator, a claim held while the chunk is buffered)', async () => {
    const emulator = await startOssEmulator({ buckets: ['stowage'] });
    cleanups.push(() => emulator.close());
    const lines = ossDriverLines(emulator, 'stowage');
    const first = await startStowageProcessOn(lines);
    cleanups.push(() => first.close());

    let location = await startUpload(first.url);
    const opening = await patch(location, 0, FIRST);
    expect(opening.status).toBe(202);
    location = opening.location;

    // the next chunk arrives in part; the writer claims the upload's size at its first byte and buffers
    const body = new PassThrough();
    const interrupted = request(location, { method: 'PATCH', body, headers: { 'content-type': 'application/octet-stream', 'content-range': `${FIRST}-${content.length - 1}` } }).catch((err: unknown) => err);
    body.write(content.subarray(FIRST, FIRST + 40 * 1024));
    const claimed = () => [...emulator.bucket('stowage').keys()].some((key) => key.endsWith(claimSuffix));
    await waitFor(claimed, 'the writer to claim the upload size');
    const exited = once(first.server.child, 'exit');
    first.server.child.kill('SIGKILL');
    await exited;
    body.destroy();
    await interrupted;
    expect(claimed(), 'the killed writer left its claim behind').toBe(true);

    const second = await startStowageProcessOn(lines);
    cleanups.push(() => second.close());
    await resumeAndFinish(second.url, location.replace(first.url, second.url));
  }, 120_000);

  it('resumes at the durable offset on the restarted process (filesystem, the claim of a process killed after claiming)', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-stale-claim-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const first = await startStowageProcess({ rootdirectory: root });
    cleanups.push(() => first.close());
    let location = await startUpload(first.url);
    const opening = await patch(location, 0, FIRST);
    expect(opening.status).toBe(202);
    location = opening.location;
    const id = new URL(location).pathname.split('/').at(-1)!;
    const uploadDir = path.join(root, 'docker/registry/v2/repositories', REPOSITORY, '_uploads', id);

    // A process of the driver's own claims the size and is killed before it appends, as a registry killed
    // between its claim and its first byte would be.
    const claimsModule = path.join(PROJECT_ROOT, 'plugins/filesystem/dist/claims.js');
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { takeClaim } = await import(${JSON.stringify(claimsModule)}); const held = await takeClaim(${JSON.stringify(path.join(uploadDir, 'data'))}, ${FIRST}); console.log(held ? 'claimed' : 'refused'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(holder.stdout!, 'data')) as [Buffer];
    expect(line.toString().trim()).toBe('claimed');
    const conflicting = await patch(location, FIRST, content.length);
    expect(conflicting.status, 'while the claim\'s holder lives, a chunk at the size it claimed is refused').toBe(416);
    const exited = once(holder, 'exit');
    holder.kill('SIGKILL');
    await exited;
    expect((await readdir(uploadDir)).filter((name) => name.endsWith(claimSuffix)), 'the killed process left its claim').toHaveLength(1);

    await first.close();
    const second = await startStowageProcess({ rootdirectory: root });
    cleanups.push(() => second.close());
    await resumeAndFinish(second.url, location.replace(first.url, second.url));
  }, 120_000);
});

describe('an upload whose registry process on Elliptics was killed mid-PATCH', () => {
  it('resumes at the durable offset on the restarted process (elliptics on emulated nodes, chunks of the interrupted PATCH staged)', async () => {
    const cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }], { idsPerBackend: 2 }).start();
    cleanups.push(() => cluster.stop());
    const lines = ['  elliptics:', `    nodes: "${cluster.remotes.join(' ')}"`, '    groups: [1, 2]', '    chunksize: 4096'];
    const first = await startStowageProcessOn(lines);
    cleanups.push(() => first.close());

    let location = await startUpload(first.url);
    const opening = await patch(location, 0, FIRST);
    expect(opening.status).toBe(202);
    location = opening.location;
    const liveBefore = cluster.liveBytes();

    // the next chunk arrives in part; the writer stages what arrived, a chunk at a time
    const body = new PassThrough();
    const interrupted = request(location, { method: 'PATCH', body, headers: { 'content-type': 'application/octet-stream', 'content-range': `${FIRST}-${content.length - 1}` } }).catch((err: unknown) => err);
    body.write(content.subarray(FIRST, FIRST + 40 * 1024));
    await waitFor(() => cluster.liveBytes() > liveBefore + 32 * 1024, 'the writer to stage the chunks that arrived');
    const exited = once(first.server.child, 'exit');
    first.server.child.kill('SIGKILL');
    await exited;
    body.destroy();
    await interrupted;
    // what the killed process had already sent may still be in flight to the nodes: applied once its
    // connections are closed, else it could land after the restarted process reported the upload's size
    await waitFor(() => cluster.openConnections === 0, 'the nodes to have read all the killed process sent');

    const second = await startStowageProcessOn(lines);
    cleanups.push(() => second.close());
    await resumeAndFinish(second.url, location.replace(first.url, second.url));
  }, 120_000);
});

describe('whether a claim is abandoned', () => {
  it('is so for a holder process of this host that exited, or a holder that stopped renewing for the lease, and not for a live holder', async () => {
    const live = newClaimRecord();
    expect(claimIsAbandoned(encodeClaimRecord(live), new Date())).toBe(false);
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(claimIsAbandoned(encodeClaimRecord({ ...live, pid: child.pid! }), new Date()), 'its process exited').toBe(true);
    const elsewhere = { ...live, host: `${os.hostname()}-elsewhere` };
    expect(claimIsAbandoned(encodeClaimRecord(elsewhere), new Date(), live.renewedAt + 1000, 60_000), 'another host, renewed a second ago').toBe(false);
    expect(claimIsAbandoned(encodeClaimRecord(elsewhere), new Date(), live.renewedAt + 61_000, 60_000), 'another host, not renewed for the lease').toBe(true);
    expect(claimIsAbandoned(Buffer.from('0123abcd'), new Date(1000), 1000 + 61_000, 60_000), 'an older claim without a record, by its age').toBe(true);
    expect(claimIsAbandoned(Buffer.alloc(0), new Date(1000), 1000 + 1000, 60_000), 'a claim just created, its record not yet written').toBe(false);
  });
});
