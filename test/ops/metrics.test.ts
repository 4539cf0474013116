/**
 * Prometheus metrics on the debug address: a push and a pull move the request, byte and storage counters by
 * exactly what went over the wire.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageManifest, pushBlobChunked, pushBlobMonolithic, pushManifestTo, sha256 } from '../support/push-by-url.js';
import { startConfigured, tempFolder, type ConfiguredStowage } from './support.js';

/** The samples of a Prometheus text exposition, keyed `name{labels}` as written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

describe('metrics on http.debug.addr with http.debug.prometheus.enabled', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let stowage: ConfiguredStowage;
  const scrape = async (): Promise<Map<string, number>> => {
    const answer = await fetch(`${stowage.debugURL}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return samples(await answer.text());
  };

  beforeAll(async () => {
    work = await tempFolder('metrics');
    stowage = await startConfigured(
      work.dir,
      ['log: { level: warn }', 'http:', '  addr: 127.0.0.1:0', '  debug:', '    addr: 127.0.0.1:0', '    prometheus: { enabled: true, path: /metrics }', 'storage:', '  filesystem: { rootdirectory: ./data }', ''].join('\n'),
    );
  });
  afterAll(async () => {
    await stowage?.close();
    await work?.remove();
  });

  it('counts a push: requests by route, method and status, request bytes equal to the blob and manifest sizes, storage operations by driver', async () => {
    const before = await scrape();
    const layer = randomBytes(300_000);
    const chunks = [randomBytes(70_000), randomBytes(50_001)];
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    expect(await pushBlobMonolithic(stowage.url, 'metrics/app', layer)).toBe(201);
    expect(await pushBlobMonolithic(stowage.url, 'metrics/app', config)).toBe(201);
    expect(await pushBlobChunked(stowage.url, 'metrics/app', chunks)).toBe(201);
    const manifest = imageManifest(config, [layer, Buffer.concat(chunks)]);
    expect(await pushManifestTo(stowage.url, 'metrics/app', 'v1', manifest)).toBe(201);
    const after = await scrape();
    const moved = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);

    const uploads = '/v2/<name>/blobs/uploads/';
    const session = '/v2/<name>/blobs/uploads/<uuid>';
    const manifests = '/v2/<name>/manifests/<reference>';
    expect(moved(`stowage_http_requests_total{route="${uploads}",method="POST",status="201"}`)).toBe(2);
    expect(moved(`stowage_http_requests_total{route="${uploads}",method="POST",status="202"}`)).toBe(1);
    expect(moved(`stowage_http_requests_total{route="${session}",method="PATCH",status="202"}`)).toBe(2);
    expect(moved(`stowage_http_requests_total{route="${session}",method="PUT",status="201"}`)).toBe(1);
    expect(moved(`stowage_http_requests_total{route="${manifests}",method="PUT",status="201"}`)).toBe(1);
    expect(moved(`stowage_http_request_bytes_total{route="${uploads}",method="POST"}`)).toBe(layer.length + config.length);
    expect(moved(`stowage_http_request_bytes_total{route="${session}",method="PATCH"}`)).toBe(chunks[0]!.length + chunks[1]!.length);
    expect(moved(`stowage_http_request_bytes_total{route="${manifests}",method="PUT"}`)).toBe(manifest.length);
    expect(moved(`stowage_http_request_duration_seconds_count{route="${session}",method="PATCH"}`)).toBe(2);
    // the two blobs larger than 64 KiB were committed through a driver writer; the small config blob, the
    // links and the manifest were written whole
    expect(moved('stowage_storage_operation_duration_seconds_count{driver="filesystem",operation="commit"}')).toBeGreaterThanOrEqual(2);
    expect(moved('stowage_storage_operation_duration_seconds_count{driver="filesystem",operation="putContent"}')).toBeGreaterThanOrEqual(2);
    expect(after.get('stowage_uploads_in_flight')).toBe(0);
    expect(after.get('stowage_storage_retries_total{driver="filesystem"}') ?? 0).toBe(0);
    // prom-client's process metrics
    expect(after.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts a pull: response bytes equal to the blob size, and a missing blob as a 404 without a storage error', async () => {
    const blob = randomBytes(123_457);
    expect(await pushBlobMonolithic(stowage.url, 'metrics/pull', blob)).toBe(201);
    const before = await scrape();
    const pulled = await fetch(`${stowage.url}/v2/metrics/pull/blobs/${sha256(blob)}`);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(blob)).toBe(true);
    const missing = await fetch(`${stowage.url}/v2/metrics/pull/blobs/${sha256(Buffer.from('absent'))}`);
    const missingBody = Buffer.from(await missing.arrayBuffer());
    expect(missing.status).toBe(404);
    const after = await scrape();
    const moved = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    const blobs = '/v2/<name>/blobs/<digest>';
    expect(moved(`stowage_http_response_bytes_total{route="${blobs}",method="GET"}`)).toBe(blob.length + missingBody.length);
    expect(moved(`stowage_http_requests_total{route="${blobs}",method="GET",status="200"}`)).toBe(1);
    expect(moved(`stowage_http_requests_total{route="${blobs}",method="GET",status="404"}`)).toBe(1);
    const errors = [...after.keys()].filter((key) => key.startsWith('stowage_storage_errors_total'));
    expect(errors).toEqual([]);
  });

  it('answers /debug/health, /livez and /readyz on the debug address, and nothing else there', async () => {
    expect(await (await fetch(`${stowage.debugURL}/debug/health`)).json()).toEqual({});
    expect((await fetch(`${stowage.debugURL}/livez`)).status).toBe(200);
    expect((await fetch(`${stowage.debugURL}/readyz`)).status).toBe(200);
    expect((await fetch(`${stowage.debugURL}/v2/`)).status).toBe(404);
    // and the registry's own address serves no metrics
    expect((await fetch(`${stowage.url}/metrics`)).status).toBe(404);
  });
});
