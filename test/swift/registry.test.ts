/**
 * The registry on the swift and s3 drivers: the skopeo end-to-end suite, two registries sharing one
 * container (scale-out), and pushes and pulls through a faulty network that the drivers' retries absorb.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { deterministicBuffer } from '../support/deterministic-bytes.js';
import { buildImageLayout, sha256Digest } from '../support/oci-layout.js';
import { getManifest } from '../support/registry-client.js';
import type { RunningRegistry } from '../support/registry-under-test.js';
import { describeSkopeoE2E } from '../support/skopeo-e2e.js';
import { dockerRef, ociRef, Skopeo } from '../support/skopeo.js';
import { startStowageOwningDriver } from '../support/stowage.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { s3Driver, s3Options, swiftDriver, swiftOptions } from './drivers.js';

let endpoint: SwiftEndpoint;
let release: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
});

afterAll(async () => {
  await release?.();
});

/** A registry on a driver; closing it closes the driver too. */
const registryOn = (driver: StorageDriver): Promise<RunningRegistry> => startStowageOwningDriver(driver);

interface Flavour {
  readonly name: 'swift' | 's3';
  /** a driver on a fresh container/bucket, or on `shared` when given */
  driver(shared?: string, overrides?: Record<string, unknown>): Promise<StorageDriver>;
  freshStore(): string;
}

const flavours: Flavour[] = [
  {
    name: 'swift',
    driver: (shared, overrides = {}) => swiftDriver(endpoint, { ...(shared ? { container: shared } : {}), ...overrides }),
    freshStore: () => swiftOptions(endpoint).container,
  },
  {
    name: 's3',
    driver: (shared, overrides = {}) => s3Driver(endpoint, { ...(shared ? { bucket: shared } : {}), ...overrides }),
    freshStore: () => s3Options(endpoint).bucket,
  },
];

for (const flavour of flavours) {
  describeSkopeoE2E(`stowage on the ${flavour.name} driver (Swift all-in-one)`, async () => registryOn(await flavour.driver()));

  describe(`two stowage registries sharing one ${flavour.name} store`, () => {
    let first: RunningRegistry;
    let second: RunningRegistry;
    let skopeo: Skopeo;
    let workdir: string;

    beforeAll(async () => {
      const store = flavour.freshStore();
      first = await registryOn(await flavour.driver(store));
      second = await registryOn(await flavour.driver(store));
      skopeo = await Skopeo.create();
      workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-scaleout-'));
    });

    afterAll(async () => {
      await first?.close();
      await second?.close();
      await skopeo?.dispose();
      if (workdir) await rm(workdir, { recursive: true, force: true });
    });

    it('serves through one registry an image pushed through the other', async () => {
      const image = await buildImageLayout(path.join(workdir, 'image'), 'v1', `scaleout-${flavour.name}`);
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(first.host, 'shared/image', 'v1'), ['--preserve-digests']);
      const manifest = await getManifest(second.url, 'shared/image', 'v1');
      expect(manifest.status).toBe(200);
      expect(sha256Digest(manifest.body)).toBe(image.rootDigest);
      await skopeo.copy(dockerRef(second.host, 'shared/image', 'v1'), ociRef(path.join(workdir, 'pulled'), 'v1'));
    });

    it('finishes on one registry a chunked upload begun on the other', async () => {
      const content = deterministicBuffer(`scaleout-chunked-${flavour.name}`, 7 * 1024 * 1024 + 321);
      const digest = sha256Digest(content);
      const split = 6 * 1024 * 1024;
      const started = await request(`${first.url}/v2/shared/chunked/blobs/uploads/`, { method: 'POST' });
      await started.body.dump();
      expect(started.statusCode).toBe(202);
      const location = new URL(String(started.headers.location), first.url);

      const patch1 = await request(new URL(location.pathname + location.search, first.url), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${split - 1}`, 'content-length': String(split) },
        body: content.subarray(0, split),
      });
      await patch1.body.dump();
      expect(patch1.statusCode).toBe(202);
      const next = new URL(String(patch1.headers.location), first.url);

      // the rest goes to the other registry, as a load balancer would send it
      const patch2 = await request(new URL(next.pathname + next.search, second.url), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${split}-${content.length - 1}`, 'content-length': String(content.length - split) },
        body: content.subarray(split),
      });
      await patch2.body.dump();
      expect(patch2.statusCode).toBe(202);
      const last = new URL(String(patch2.headers.location), second.url);
      last.searchParams.set('digest', digest);
      const finished = await request(new URL(last.pathname + last.search, second.url), { method: 'PUT', headers: { 'content-length': '0' } });
      await finished.body.dump();
      expect(finished.statusCode).toBe(201);

      let fetched = await request(`${first.url}/v2/shared/chunked/blobs/${digest}`);
      if (fetched.statusCode === 307) {
        // the s3 driver redirects to a presigned URL
        await fetched.body.dump();
        fetched = await request(String(fetched.headers.location));
      }
      const body = Buffer.from(await fetched.body.arrayBuffer());
      expect(fetched.statusCode).toBe(200);
      expect(sha256Digest(body)).toBe(digest);
    });
  });

  describe(`stowage on the ${flavour.name} driver behind a faulty network`, () => {
    let proxy: FaultProxy;
    let registry: RunningRegistry;
    const layer = deterministicBuffer(`faulty-${flavour.name}`, 200_000);
    const digest = sha256Digest(layer);

    beforeAll(async () => {
      proxy = await startFaultProxy({ host: '127.0.0.1', port: endpoint.proxyPort });
      const through = flavour.name === 'swift' ? { authurl: `${proxy.url}/auth/v1.0` } : { regionendpoint: proxy.url };
      registry = await registryOn(await flavour.driver(undefined, { ...through, maxretries: 2, retrydelay: '10ms', timeout: '2s' }));
    });

    afterAll(async () => {
      await registry?.close();
      await proxy?.close();
    });

    it('pushes an image through 503s and dropped connections that retries absorb', async () => {
      const skopeo = await Skopeo.create();
      const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-faulty-'));
      try {
        const image = await buildImageLayout(path.join(workdir, 'image'), 'v1', `faulty-push-${flavour.name}`);
        proxy.inject({ method: 'PUT', fault: { kind: 'status', status: 503 }, times: 2 });
        proxy.inject({ method: 'PUT', fault: { kind: 'dropRequest', afterBytes: 1000 }, times: 1 });
        proxy.inject({ method: 'GET', fault: { kind: 'dropResponse', afterBytes: 100 }, times: 2 });
        await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(registry.host, 'faulty/image', 'v1'), ['--preserve-digests']);
        proxy.clear();
        const manifest = await getManifest(registry.url, 'faulty/image', 'v1');
        expect(manifest.status).toBe(200);
        expect(sha256Digest(manifest.body)).toBe(image.rootDigest);
        await skopeo.copy(dockerRef(registry.host, 'faulty/image', 'v1'), ociRef(path.join(workdir, 'pulled'), 'v1'));
      } finally {
        proxy.clear();
        await skopeo.dispose();
        await rm(workdir, { recursive: true, force: true });
      }
    });
  });
}

