import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../support/ports.js';
import { isGone } from '../support/process-tree.js';
import { imageManifest, IMAGE_MANIFEST, pushTaggedImage } from '../support/push-by-url.js';
import { startStowageProcess, type StowageProcess } from '../support/stowage.js';
import { until } from '../support/until.js';

const sha256 = (bytes: Uint8Array | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** the process ids whose parent is `pid` (the primary's workers) */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The access log lines (log level info) each worker wrote, by request id: which worker served a request. */
function workerOf(server: StowageProcess, requestId: string): number | undefined {
  for (const line of server.server.output().split('\n')) {
    if (!line.includes(requestId)) continue;
    const entry = JSON.parse(line) as { worker?: number; access?: { requestId?: string } };
    if (entry.access?.requestId === requestId) return entry.worker;
  }
  return undefined;
}

interface Pinned {
  readonly client: Client;
  readonly worker: number;
}

/** One connection, and the worker its requests go to (a connection stays with the worker that accepted it). */
async function pinnedConnection(server: StowageProcess): Promise<Pinned> {
  const client = new Client(server.url, { pipelining: 1 });
  const response = await client.request({ path: '/v2/', method: 'GET' });
  await response.body.arrayBuffer();
  const requestId = String(response.headers['x-request-id']);
  const worker = await until(`the access log line of ${requestId}`, () => workerOf(server, requestId));
  return { client, worker };
}

/** connections until two are served by different workers */
async function connectionsOnTwoWorkers(server: StowageProcess): Promise<[Pinned, Pinned]> {
  const opened: Pinned[] = [];
  for (let i = 0; i < 20; i++) {
    const next = await pinnedConnection(server);
    const other = opened.find((each) => each.worker !== next.worker);
    if (other) {
      for (const each of opened) if (each !== other) await each.client.close();
      return [other, next];
    }
    opened.push(next);
  }
  throw new Error('20 connections all went to one worker');
}

async function send(client: Client, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const response = await client.request({ path, method: method as 'GET', ...(body !== undefined ? { body } : {}), headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** An image whose config and layer hold `text`, pushed to `url` through `client` (the worker it is pinned to). */
async function pushImage(url: string, client: Client, repository: string, tag: string, text: string): Promise<{ digest: string; manifest: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', text }));
  const layer = Buffer.from(text);
  const digest = await pushTaggedImage(url, repository, { tags: [tag], config, layers: [layer], via: client });
  return { digest, manifest: imageManifest(config, [layer]).toString() };
}

describe('stowage serve with http.workers: 2', () => {
  let server: StowageProcess;
  let debugPort: number;
  beforeAll(async () => {
    debugPort = await freeLoopbackPort();
    server = await startStowageProcess({
      logLevel: 'info',
      httpLines: ['  workers: 2', '  debug:', `    addr: 127.0.0.1:${debugPort}`, '    prometheus:', '      enabled: true'],
    });
    // the primary announces the address once both workers listen
    await until('the start-up line', () => (/stowage listening on \S+ \(storage: filesystem at .*, 2 workers\)/.test(server.server.output()) ? true : undefined));
  }, 90_000);
  afterAll(async () => {
    await server?.close();
  });

  it('runs two workers under the primary, and the periodic tasks in one of them only', async () => {
    expect(childrenOf(server.pid)).toHaveLength(2);
    const scheduled = server.server.output().split('\n').filter((line) => line.includes('"upload purging scheduled"'));
    expect(scheduled.map((line) => (JSON.parse(line) as { worker?: number }).worker)).toEqual([0]);
  });

  it('a tag pushed or moved through one worker is pulled at its new digest through the other', async () => {
    const [a, b] = await connectionsOnTwoWorkers(server);
    try {
      const first = await pushImage(server.url, a.client, 'shared/app', 'latest', 'first');
      const seen = await send(b.client, 'GET', '/v2/shared/app/manifests/latest', undefined, { accept: IMAGE_MANIFEST });
      expect([seen.status, seen.headers['docker-content-digest'], seen.text]).toEqual([200, first.digest, first.manifest]);
      const second = await pushImage(server.url, a.client, 'shared/app', 'latest', 'second');
      const moved = await send(b.client, 'GET', '/v2/shared/app/manifests/latest', undefined, { accept: IMAGE_MANIFEST });
      expect([moved.status, moved.headers['docker-content-digest'], moved.text]).toEqual([200, second.digest, second.manifest]);
      expect((await send(a.client, 'DELETE', `/v2/shared/app/manifests/${second.digest}`)).status).toBe(202);
      expect((await send(b.client, 'GET', '/v2/shared/app/manifests/latest')).status).toBe(404);
      expect((await send(b.client, 'GET', `/v2/shared/app/manifests/${second.digest}`)).status).toBe(404);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it('an upload begun through one worker is continued and finished through the other', async () => {
    const [a, b] = await connectionsOnTwoWorkers(server);
    try {
      const started = await send(a.client, 'POST', '/v2/shared/upload/blobs/uploads/');
      expect(started.status).toBe(202);
      const location = String(started.headers.location);
      const patched = await send(a.client, 'PATCH', location, 'hello ', { 'content-type': 'application/octet-stream' });
      expect(patched.status).toBe(202);
      const next = String(patched.headers.location);
      const separator = next.includes('?') ? '&' : '?';
      const done = await send(b.client, 'PUT', `${next}${separator}digest=${sha256('hello world')}`, 'world', { 'content-type': 'application/octet-stream' });
      expect(done.status).toBe(201);
      expect((await send(a.client, 'GET', `/v2/shared/upload/blobs/${sha256('hello world')}`)).text).toBe('hello world');
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it('the debug address sums both workers\' metrics and reports them ready', async () => {
    const [a, b] = await connectionsOnTwoWorkers(server);
    const scrape = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${debugPort}/metrics`)).text();
      const line = text.split('\n').find((each) => each.startsWith('stowage_http_requests_total{') && each.includes('route="/v2/<name>/tags/list"') && each.includes('status="404"'));
      return line === undefined ? 0 : Number(line.split(' ').pop());
    };
    try {
      const before = await scrape();
      for (let i = 0; i < 3; i++) {
        expect((await send(a.client, 'GET', '/v2/metrics/none/tags/list')).status).toBe(404);
        expect((await send(b.client, 'GET', '/v2/metrics/none/tags/list')).status).toBe(404);
      }
      expect((await scrape()) - before).toBe(6);
    } finally {
      await a.client.close();
      await b.client.close();
    }
    const ready = await until('ready', async () => {
      const response = await fetch(`http://127.0.0.1:${debugPort}/readyz`);
      await response.arrayBuffer();
      return response.status === 200 ? true : undefined;
    });
    expect(ready).toBe(true);
    const health = await fetch(`http://127.0.0.1:${debugPort}/debug/health`);
    expect([health.status, await health.json()]).toEqual([200, {}]);
  });

  it('a worker that is killed is replaced, and the registry keeps answering', async () => {
    const [victim, survivor] = childrenOf(server.pid);
    process.kill(victim!, 'SIGKILL');
    const replacement = await until('a new worker', () => childrenOf(server.pid).find((pid) => pid !== victim && pid !== survivor));
    expect(isGone(victim!)).toBe(true);
    // two workers listened at the start, the replacement is the third
    const listened = (): number => server.server.output().split('\n').filter((line) => line.includes('"worker":') && line.includes('"msg":"stowage listening"')).length;
    await until('the replacement to listen', () => (listened() === 3 ? true : undefined));
    expect(server.server.output()).toContain('"msg":"worker exited: starting another in its place"');
    // both workers answer again: connections reach the replacement as well as the survivor
    const [a, b] = await connectionsOnTwoWorkers(server);
    await a.client.close();
    await b.client.close();
    expect(childrenOf(server.pid)).toEqual(expect.arrayContaining([survivor, replacement]));
  }, 90_000);
});

describe('stowage serve with http.workers: 2, stopped with SIGTERM', () => {
  it('lets a request in flight finish on a worker, then every process exits', async () => {
    const server = await startStowageProcess({ httpLines: ['  workers: 2'] });
    try {
      await until('the start-up line', () => (/2 workers\)/.test(server.server.output()) ? true : undefined));
      const workers = childrenOf(server.pid);
      const url = new URL(server.url);
      const started = await fetch(`${server.url}/v2/app/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.get('location')!;
      const socket = net.connect(Number(url.port), url.hostname);
      await new Promise((resolve) => socket.once('connect', resolve));
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      const socketClosed = new Promise((resolve) => socket.once('close', resolve));
      // a chunk in flight: headers and half the body now, the rest after the signal
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\nhello`);
      // the worker has the first half once it is in the upload's partial file (a status GET would wait for
      // the PATCH, which holds the upload)
      const uuid = location.split('?')[0]!.split('/').pop()!;
      const partial = path.join(server.rootdirectory, 'docker/registry/v2/repositories/app/_uploads', uuid, 'data~partial');
      await until('the first half stored', () => (existsSync(partial) && statSync(partial).size === 5 ? true : undefined));
      const exited = new Promise<number | null>((resolve) => server.server.child.once('exit', (code) => resolve(code)));
      server.server.child.kill('SIGTERM');
      socket.write('world');
      await socketClosed;
      expect(received).toMatch(/^HTTP\/1\.1 202 /);
      expect(received).toMatch(/Range: 0-9/i);
      expect(await exited).toBe(0);
      expect(server.server.output()).toContain('stowage stopped');
      for (const pid of workers) expect(isGone(pid)).toBe(true);
    } finally {
      await server.close();
    }
  }, 90_000);
});
