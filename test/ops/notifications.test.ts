/**
 * Notifications against a receiver HTTP server in this test: distribution's envelope for push, pull, mount
 * and delete, per-endpoint filters, and no event lost while the receiver is down across a stowage restart.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../support/ports.js';
import { imageManifest, pushBlobMonolithic, pushManifestTo, sha256 } from '../support/push-by-url.js';
import { eventually, startConfigured, tempFolder, type ConfiguredStowage } from './support.js';

interface Received {
  readonly contentType: string | undefined;
  readonly token: string | undefined;
  readonly events: Array<Record<string, any>>;
}

/** A webhook receiver: keeps every envelope it is sent, in arrival order. */
async function startReceiver(port = 0): Promise<{ port: number; received: Received[]; events: () => Array<Record<string, any>>; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: Array<Record<string, any>> };
      received.push({ contentType: req.headers['content-type'], token: req.headers['x-token'] as string | undefined, events: body.events });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    received,
    events: () => received.flatMap((r) => r.events),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const config = (receiverPort: number, extra = '', options: { http?: string; queuelimit?: number } = {}): string =>
  [
    'log: { level: warn }',
    options.http ?? 'http: { addr: "127.0.0.1:0" }',
    'storage:',
    '  filesystem: { rootdirectory: ./data }',
    '  delete: { enabled: true }',
    'notifications:',
    '  queuedir: ./queue',
    ...(options.queuelimit ? [`  queuelimit: ${options.queuelimit}`] : []),
    '  endpoints:',
    '    - name: all',
    `      url: http://127.0.0.1:${receiverPort}/events`,
    '      headers: { X-Token: [s3cret-token] }',
    '      timeout: 2s',
    '      threshold: 2',
    '      backoff: 100ms',
    extra,
    '',
  ].join('\n');

describe('notifications.endpoints', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let stowage: ConfiguredStowage | undefined;
  const receivers: Array<{ close: () => Promise<void> }> = [];

  beforeAll(async () => {
    work = await tempFolder('notify');
  });
  afterEach(async () => {
    await stowage?.close();
    stowage = undefined;
    for (const receiver of receivers.splice(0)) await receiver.close();
  });
  afterAll(() => work?.remove());

  it('sends distribution events for push, pull, mount and delete, in request order, and honours ignore rules per endpoint', async () => {
    const all = await startReceiver();
    const filtered = await startReceiver();
    receivers.push(all, filtered);
    const dir = path.join(work.dir, 'shape');
    await mkdir(dir);
    stowage = await startConfigured(
      dir,
      config(
        all.port,
        [
          '    - name: manifests-only',
          `      url: http://127.0.0.1:${filtered.port}/`,
          '      ignoredmediatypes: [application/octet-stream]',
          '      ignore: { actions: [pull] }',
        ].join('\n'),
      ),
    );
    const layer = randomBytes(4096);
    const imageConfig = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const manifest = imageManifest(imageConfig, [layer]);
    expect(await pushBlobMonolithic(stowage.url, 'notify/app', layer)).toBe(201);
    expect(await pushBlobMonolithic(stowage.url, 'notify/app', imageConfig)).toBe(201);
    expect(await pushManifestTo(stowage.url, 'notify/app', 'v1', manifest)).toBe(201);
    const pulled = await fetch(`${stowage.url}/v2/notify/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json', 'user-agent': 'notify-test/1.0' } });
    expect(pulled.status).toBe(200);
    await pulled.arrayBuffer();
    const mounted = await fetch(`${stowage.url}/v2/notify/other/blobs/uploads/?mount=${sha256(layer)}&from=notify/app`, { method: 'POST' });
    expect(mounted.status).toBe(201);
    const deleted = await fetch(`${stowage.url}/v2/notify/app/manifests/${sha256(manifest)}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);

    await eventually('six events at the first endpoint', async () => all.events().length >= 6);
    const events = all.events();
    expect(events.map((e) => `${e.action} ${e.target.repository} ${e.target.mediaType ?? '-'}`)).toEqual([
      'push notify/app application/octet-stream',
      'push notify/app application/octet-stream',
      'push notify/app application/vnd.oci.image.manifest.v1+json',
      'pull notify/app application/vnd.oci.image.manifest.v1+json',
      'mount notify/other application/octet-stream',
      'delete notify/app -',
    ]);
    expect(all.received.every((r) => r.contentType === 'application/vnd.docker.distribution.events.v1+json')).toBe(true);
    expect(all.received.every((r) => r.token === 's3cret-token')).toBe(true);
    const [layerPush, , manifestPush, manifestPull, mount, deletion] = events;
    expect(layerPush!.target).toMatchObject({ digest: sha256(layer), size: layer.length, length: layer.length, url: `${stowage.url}/v2/notify/app/blobs/${sha256(layer)}` });
    expect(manifestPush!.target).toMatchObject({ digest: sha256(manifest), size: manifest.length, tag: 'v1' });
    expect(manifestPull!.request).toMatchObject({ method: 'GET', addr: '127.0.0.1', useragent: 'notify-test/1.0', host: new URL(stowage.url).host });
    expect(manifestPull!.request.id).toBe(pulled.headers.get('x-request-id'));
    expect(mount!.target).toMatchObject({ digest: sha256(layer), size: layer.length, fromRepository: 'notify/app' });
    expect(deletion!.target).toEqual({ repository: 'notify/app', digest: sha256(manifest) });
    for (const event of events) {
      expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(event.timestamp))).toBe(false);
      expect(event.source.addr).toMatch(new RegExp(`:${new URL(stowage.url).port}$`));
    }
    expect(new Set(events.map((e) => e.source.instanceID)).size).toBe(1);

    // no blob events, no pulls: the manifest push and the delete
    await eventually('two events at the filtered endpoint', async () => filtered.events().length >= 2);
    expect(filtered.events().map((e) => e.action)).toEqual(['push', 'delete']);
  });

  it('keeps the events of a push while the receiver is down, across a restart of stowage, and delivers them all in order once it is up', async () => {
    const receiverPort = await freeLoopbackPort();
    const dir = path.join(work.dir, 'restart');
    await mkdir(dir);
    // nothing listens on receiverPort yet: every delivery fails
    stowage = await startConfigured(dir, config(receiverPort));
    const blobs = Array.from({ length: 5 }, (_, i) => randomBytes(1000 + i));
    for (const blob of blobs) expect(await pushBlobMonolithic(stowage.url, 'notify/restart', blob)).toBe(201);
    // the pushes were answered without waiting for the receiver; the events are on disk, one file each
    await eventually('five queued events', async () => (await readdir(path.join(dir, 'queue', 'all'))).filter((f) => f.endsWith('.json')).length === 5);
    await stowage.close();
    stowage = undefined;

    stowage = await startConfigured(dir, config(receiverPort));
    const more = randomBytes(777);
    expect(await pushBlobMonolithic(stowage.url, 'notify/restart', more)).toBe(201);
    const receiver = await startReceiver(receiverPort);
    receivers.push(receiver);
    await eventually('six events delivered', async () => receiver.events().length >= 6);
    expect(receiver.events().map((e) => e.target.digest)).toEqual([...blobs, more].map((b) => sha256(b)));
    await eventually('the queue folder empties', async () => (await readdir(path.join(dir, 'queue', 'all'))).length === 0);
  });

  it('names the authenticated user as the actor', async () => {
    const receiver = await startReceiver();
    receivers.push(receiver);
    const dir = path.join(work.dir, 'actor');
    await mkdir(dir);
    await writeFile(path.join(dir, 'htpasswd'), `alice:${bcrypt.hashSync('wonderland', 4)}\n`);
    stowage = await startConfigured(dir, `${config(receiver.port)}auth:\n  htpasswd: { realm: test, path: ./htpasswd }\n`);
    const blob = randomBytes(100);
    const pushed = await fetch(`${stowage.url}/v2/notify/actor/blobs/uploads/?digest=${sha256(blob)}`, {
      method: 'POST',
      body: blob,
      headers: { authorization: `Basic ${Buffer.from('alice:wonderland').toString('base64')}`, 'content-type': 'application/octet-stream' },
    });
    expect(pushed.status).toBe(201);
    await eventually('the push event', async () => receiver.events().length >= 1);
    expect(receiver.events()[0]).toMatchObject({ action: 'push', actor: { name: 'alice' }, target: { digest: sha256(blob) } });
  });

  it('keeps at most queuelimit events per endpoint on disk, dropping (and counting) the ones that do not fit', async () => {
    const receiverPort = await freeLoopbackPort();
    const dir = path.join(work.dir, 'full');
    await mkdir(dir);
    const http = 'http: { addr: "127.0.0.1:0", debug: { addr: "127.0.0.1:0", prometheus: { enabled: true } } }';
    stowage = await startConfigured(dir, config(receiverPort, '', { http, queuelimit: 2 }));
    const blobs = Array.from({ length: 3 }, (_, i) => randomBytes(10 + i));
    for (const blob of blobs) expect(await pushBlobMonolithic(stowage.url, 'notify/full', blob)).toBe(201);
    const dropped = async (): Promise<number> => {
      const text = await (await fetch(`${stowage!.debugURL}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('stowage_notifications_dropped_total{endpoint="all"}'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    await eventually('one dropped event', async () => (await dropped()) === 1);
    expect((await readdir(path.join(dir, 'queue', 'all'))).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    // the two that fit are the first two, and they are delivered once the receiver is up
    const receiver = await startReceiver(receiverPort);
    receivers.push(receiver);
    await eventually('two events delivered', async () => receiver.events().length >= 2);
    expect(receiver.events().map((e) => e.target.digest)).toEqual(blobs.slice(0, 2).map((b) => sha256(b)));
  });
});
