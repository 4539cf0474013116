/**
 * An upstream is input like any other: a loopback server answering what no well-behaved registry would
 * (bad JSON, a lying digest, schema 1, no Content-Length, 500s, 429s, unanswerable challenges, tokenless
 * token servers, redirect loops). Each is a precise OCI error for the puller, never a 5xx the puller caused
 * nor anything stored.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../../src/embed.js';
import { createFilesystemDriver } from '../../support/stowage.js';

const sha256 = (bytes: Buffer | string): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const goodLayer = Buffer.from('a layer');
const goodManifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(goodLayer), size: goodLayer.length }],
});

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** what the hostile upstream answers, by repository (the path's second segment on) */
const answers: Record<string, Answer> = {
  'not-json': (_req, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST }).end('this is not json'),
  'lying-digest': (_req, res) => res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256('something else') }).end(goodManifest),
  schema1: (_req, res) =>
    res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' }).end(JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'v1', fsLayers: [] })),
  failing: (_req, res) => res.writeHead(500).end('boom'),
  limited: (_req, res) => res.writeHead(429, { 'retry-after': '30' }).end(),
  'odd-challenge': (_req, res) => res.writeHead(401, { 'www-authenticate': 'Mutual realm="x"' }).end(),
  'tokenless-realm': (req, res) => {
    if (req.url?.startsWith('/token')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"nothing":"here"}');
    res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="hostile"` }).end();
  },
  loop: (req, res) => res.writeHead(307, { location: req.url ?? '/' }).end(),
  good: (req, res) => {
    if (req.url?.includes('/manifests/')) return void res.writeHead(200, { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(goodManifest) }).end(goodManifest);
    // a blob sent chunked: no Content-Length announces its size
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' });
    res.end(goodLayer);
  },
};

describe('a hostile upstream', () => {
  let upstream: http.Server;
  let mirror: RunningRegistry;
  let storage: string;
  let spool: string;

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      const key = req.url?.startsWith('/token') ? 'tokenless-realm' : (req.url ?? '').split('/')[2] ?? '';
      (answers[key] ?? ((_q, r) => r.writeHead(404).end()))(req, res);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    storage = await mkdtemp(path.join(os.tmpdir(), 'stowage-hostile-upstream-'));
    spool = await mkdtemp(path.join(os.tmpdir(), 'stowage-hostile-spool-'));
    mirror = await startRegistry({
      driver: await createFilesystemDriver(storage),
      deleteEnabled: true,
      mirror: {
        config: {
          upstreams: [{ name: 'hostile', remoteurl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, ttl: '1h', prefix: 'm', remoteprefix: '', sync: [], path: 'proxy.upstreams[0]' }],
        },
        spoolDir: spool,
      },
    });
  });
  afterAll(async () => {
    await mirror?.close();
    await mirror?.registry.closeCaches();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
    await rm(storage, { recursive: true, force: true });
    await rm(spool, { recursive: true, force: true });
  });

  const pull = async (pathAfterV2: string): Promise<{ status: number; code: string; message: string }> => {
    const response = await request(`${mirror.url}/v2/${pathAfterV2}`, { headers: { accept: OCI_MANIFEST } });
    const text = await response.body.text();
    const error = (JSON.parse(text) as { errors: { code: string; message: string }[] }).errors[0]!;
    return { status: response.statusCode, code: error.code, message: error.message };
  };

  const cases: [string, number, string, string][] = [
    ['not-json', 503, 'UNAVAILABLE', 'cannot store'],
    ['lying-digest', 503, 'UNAVAILABLE', 'not sha256:'],
    ['schema1', 503, 'UNAVAILABLE', 'cannot store'],
    ['failing', 503, 'UNAVAILABLE', 'failed (500'],
    ['limited', 429, 'TOOMANYREQUESTS', 'rate-limiting'],
    ['odd-challenge', 503, 'UNAVAILABLE', 'cannot answer (mutual)'],
    ['tokenless-realm', 503, 'UNAVAILABLE', 'without a token'],
    ['loop', 503, 'UNAVAILABLE', 'redirected more than'],
  ];
  for (const [repository, status, code, fragment] of cases) {
    it(`${repository}: a manifest pull answers ${status} ${code} naming the upstream, and stores nothing`, async () => {
      const answer = await pull(`m/${repository}/manifests/v1`);
      expect(answer).toMatchObject({ status, code });
      expect(answer.message).toContain('hostile');
      expect(answer.message).toContain(fragment);
      expect(await readdir(path.join(storage, 'docker/registry/v2/repositories/m', repository)).catch(() => [])).toEqual([]);
    });
  }

  it('a blob sent without Content-Length is refused (503) and nothing of it stored', async () => {
    const manifest = await request(`${mirror.url}/v2/m/good/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
    expect(manifest.statusCode).toBe(200);
    await manifest.body.dump();
    const answer = await pull(`m/good/blobs/${sha256(goodLayer)}`);
    expect(answer).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(answer.message).toContain('Content-Length');
    const hex = sha256(goodLayer).slice(7);
    expect(existsSync(path.join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'))).toBe(false);
    expect(await readdir(spool)).toEqual([]);
  });
});
