/**
 * What a client sees when the backend stays down past the driver's retries: 503 with an OCI error body
 * (distribution's UNAVAILABLE), no backend detail leaked, and nothing half-written becoming visible.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/index.js';
import { startStowageWithDriver, type RunningRegistry } from '../support/index.js';
import { useSwiftBehindFaultProxy } from './behind-proxy.js';
import { driverContext, s3Driver, swiftDriver } from './drivers.js';

const swift = useSwiftBehindFaultProxy();

const fast = { timeout: '1500ms', maxretries: 2, retrydelay: '20ms' };
const flavours = [
  { name: 'swift', create: () => swiftDriver(swift.endpoint, { authurl: `${swift.proxy.url}/auth/v1.0`, ...fast }, driverContext('swift')) },
  { name: 's3', create: () => s3Driver(swift.endpoint, { regionendpoint: swift.proxy.url, ...fast }, driverContext('s3')) },
];

describe.each(flavours)('the registry on the $name driver when the backend stays down', (flavour) => {
  let driver: StorageDriver;
  let registry: RunningRegistry;
  const repo = `unavailable/${flavour.name}`;

  beforeAll(async () => {
    driver = await flavour.create();
    registry = await startStowageWithDriver(driver);
  });
  afterAll(async () => {
    await registry?.close();
    await driver?.close?.();
  });

  const pushBlob = (blob: Buffer, digest: string) =>
    request(`${registry.url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: blob,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
    });

  it('answers a push with 503 UNAVAILABLE in OCI error JSON, and the blob is not there afterwards', async () => {
    const blob = randomBytes(64 * 1024);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    swift.proxy.inject({ method: 'PUT', fault: { kind: 'status', status: 503 }, times: Infinity });

    const refused = await pushBlob(blob, digest);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    const text = await refused.body.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ code: 'UNAVAILABLE', message: expect.any(String) }] });
    // the backend's own words (its address, its paths) stay in the server log
    expect(text).not.toContain(String(swift.endpoint.proxyPort));
    expect(text).not.toContain(String(swift.proxy.port));
    expect(swift.proxy.injected.length).toBeGreaterThanOrEqual(3);

    swift.proxy.clear();
    const head = await request(`${registry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
    await head.body.dump();
    expect(head.statusCode).toBe(404);

    const accepted = await pushBlob(blob, digest);
    await accepted.body.dump();
    expect(accepted.statusCode).toBe(201);
    // fetch follows the s3 driver's redirect to a presigned URL
    const pulled = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
    expect(pulled.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await pulled.arrayBuffer())).digest('hex')).toBe(digest.slice(7));
  });

  it('answers a pull with 503 UNAVAILABLE while the backend refuses reads, and serves it again once the backend recovers', async () => {
    const blob = randomBytes(32 * 1024);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const pushed = await pushBlob(blob, digest);
    await pushed.body.dump();
    expect(pushed.statusCode).toBe(201);

    swift.proxy.inject({ path: /blobs\/sha256\//, fault: { kind: 'status', status: 503 }, times: Infinity });
    const refused = await request(`${registry.url}/v2/${repo}/blobs/${digest}`);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBeDefined();
    expect((await refused.body.json()) as unknown).toMatchObject({ errors: [{ code: 'UNAVAILABLE' }] });

    swift.proxy.clear();
    const served = await fetch(`${registry.url}/v2/${repo}/blobs/${digest}`);
    expect(served.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await served.arrayBuffer()), blob)).toBe(0);
  });
});
