/**
 * Notification queues across a change of `http.workers`: each worker queues its events in a folder of its
 * own (`<queuedir>/worker-<n>`), so after a restart with fewer workers nobody owned the folders of the
 * workers that are gone, and their events were never sent. Real processes: stowage with three workers
 * queues events for an endpoint that is down; restarted with two workers (and then alone) and the endpoint
 * up, every queued event arrives and the orphaned folders are drained.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../support/ports.js';
import { startStowageProcess, type StowageProcess } from '../support/stowage.js';
import { until } from '../support/until.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Queued event files per folder under the queue root (`worker-<n>/<endpoint>` or `<endpoint>`). */
async function queuedFiles(queuedir: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await visit(path.join(dir, entry.name));
      else if (entry.name.endsWith('.json')) counts.set(path.relative(queuedir, dir), (counts.get(path.relative(queuedir, dir)) ?? 0) + 1);
    }
  };
  await visit(queuedir);
  return counts;
}

const total = (counts: Map<string, number>): number => [...counts.values()].reduce((a, b) => a + b, 0);

function start(storage: string, queuedir: string, receiverPort: number, workers: number): Promise<StowageProcess> {
  return startStowageProcess({
    rootdirectory: storage,
    httpLines: workers > 1 ? [`  workers: ${workers}`] : [],
    topLevelLines: ['notifications:', `  queuedir: ${JSON.stringify(queuedir)}`, '  endpoints:', '    - name: hooks', `      url: http://127.0.0.1:${receiverPort}/events`, '      timeout: 2s', '      threshold: 1', '      backoff: 100ms'],
  });
}

describe('notification queues of workers that no longer run', () => {
  it('are drained by worker 0 after the worker count shrinks, and by a process serving alone', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'stowage-worker-queues-'));
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    const storage = path.join(work, 'storage');
    const queuedir = path.join(work, 'queue');
    const receiverPort = await freeLoopbackPort();

    // three workers, the endpoint down: blob pushes over fresh connections until every worker queued some
    const three = await start(storage, queuedir, receiverPort, 3);
    cleanups.push(() => three.close());
    let pushes = 0;
    await until('events queued by each of the three workers', async () => {
      const client = new Client(three.url, { pipelining: 0 });
      const blob = `blob ${pushes++}`;
      const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      const response = await client.request({ path: `/v2/queues/app/blobs/uploads/?digest=${digest}`, method: 'POST', body: blob, headers: { 'content-type': 'application/octet-stream' } });
      await response.body.dump();
      expect(response.statusCode).toBe(201);
      await client.close();
      const counts = await queuedFiles(queuedir);
      return ['worker-0/hooks', 'worker-1/hooks', 'worker-2/hooks'].every((folder) => (counts.get(folder) ?? 0) > 0) ? true : undefined;
    });
    await three.close();
    const queued = await queuedFiles(queuedir);
    expect(total(queued), 'every push queued one event').toBe(pushes);

    // the endpoint up, two workers: worker 0 adopts worker-2's queue
    const received: unknown[] = [];
    const receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: unknown[] }).events);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const two = await start(storage, queuedir, receiverPort, 2);
    cleanups.push(() => two.close());
    await until('every event queued by the three workers to arrive', () => (received.length >= pushes ? true : undefined));
    expect(received).toHaveLength(pushes);
    await until('the queues to be empty', async () => (total(await queuedFiles(queuedir)) === 0 ? true : undefined));
    expect((await readdir(queuedir)).sort(), 'the folder of worker 2 is gone').toEqual(['worker-0', 'worker-1']);
    await two.close();

    // alone again: the workers' folders are orphans too
    const alone = await start(storage, queuedir, receiverPort, 1);
    cleanups.push(() => alone.close());
    await until('worker folders to be drained by the process serving alone', async () => ((await readdir(queuedir)).some((name) => name.startsWith('worker-')) ? undefined : true));
    expect(received).toHaveLength(pushes);
    await alone.close();
  }, 180_000);
});
