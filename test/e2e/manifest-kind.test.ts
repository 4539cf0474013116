import { createHash } from 'node:crypto';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullAndHash, pushGeneratedStream, residentSetSize, sampleResidentSetSize, startStowageProcess, type StowageProcess } from '../support/index.js';

const MiB = 1024 * 1024;
const LAYER_SIZE = 256 * MiB;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * The manifest endpoints answer only for manifests of the repository: a layer's or config's digest (public
 * knowledge) is MANIFEST_UNKNOWN there, and asking never makes the server read a layer into memory.
 */
describe('manifest endpoints serve only manifests', () => {
  let registry: StowageProcess;
  let layer = '';
  let config = '';
  let manifestDigest = '';
  let manifest = '';

  beforeAll(async () => {
    registry = await startStowageProcess({ deleteEnabled: true });
    layer = await pushGeneratedStream(registry.url, 'kind/app', `manifest-kind-${Date.now()}`, LAYER_SIZE);
    const configBody = '{"architecture":"amd64","os":"linux"}';
    config = `sha256:${createHash('sha256').update(configBody).digest('hex')}`;
    const start = await request(`${registry.url}/v2/kind/app/blobs/uploads/?digest=${config}`, { method: 'POST', body: configBody });
    await start.body.dump();
    expect(start.statusCode).toBe(201);
    manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configBody.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: LAYER_SIZE }],
    });
    manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    const put = await request(`${registry.url}/v2/kind/app/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    await put.body.dump();
    expect(put.statusCode).toBe(201);
    // a warm-up of the manifest paths, so that lazily loaded code counts in the baseline
    const warm = await request(`${registry.url}/v2/kind/app/manifests/v1`);
    await warm.body.dump();
  }, 600_000);
  afterAll(async () => {
    await registry?.close();
  });

  it(`GET, HEAD and DELETE of manifests/<layer or config digest> answer 404 MANIFEST_UNKNOWN, with the server's memory flat beside a ${LAYER_SIZE / MiB} MiB layer`, async () => {
    const baseline = residentSetSize(registry.pid);
    const sampler = sampleResidentSetSize(registry.pid);
    const answers: { method: string; digest: string; status: number; code: unknown }[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        for (const digest of [layer, config]) {
          for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
            const response = await request(`${registry.url}/v2/kind/app/manifests/${digest}`, { method, headers: { accept: `${OCI_MANIFEST}, */*` } });
            const body = await response.body.text();
            const code = method === 'HEAD' ? 'MANIFEST_UNKNOWN' : (JSON.parse(body) as { errors: { code: string }[] }).errors[0]?.code;
            answers.push({ method, digest, status: response.statusCode, code });
          }
        }
      }
    } finally {
      const peak = sampler.stop();
      expect(peak - baseline, `RSS went from ${(baseline / MiB).toFixed(1)} MiB to ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(32 * MiB);
    }
    for (const answer of answers) expect(answer).toEqual({ ...answer, status: 404, code: 'MANIFEST_UNKNOWN' });
  }, 300_000);

  it('the refused DELETEs removed nothing: the manifest and the layer are still served whole', async () => {
    const got = await request(`${registry.url}/v2/kind/app/manifests/${manifestDigest}`, { headers: { accept: OCI_MANIFEST } });
    expect(got.statusCode).toBe(200);
    expect(await got.body.text()).toBe(manifest);
    expect(await pullAndHash(registry.url, 'kind/app', layer)).toEqual({ digest: layer, size: LAYER_SIZE });
  }, 300_000);

  it('a tag whose link points at a layer (as a hand-edited or foreign store may hold) is unknown, not the layer', async () => {
    const { writeFile, mkdir } = await import('node:fs/promises');
    const tagDir = `${registry.rootdirectory}/docker/registry/v2/repositories/kind/app/_manifests/tags/forged/current`;
    await mkdir(tagDir, { recursive: true });
    await writeFile(`${tagDir}/link`, layer);
    const response = await request(`${registry.url}/v2/kind/app/manifests/forged`);
    const body = await response.body.text();
    expect(response.statusCode).toBe(404);
    expect(body.length).toBeLessThan(4096);
    expect(JSON.parse(body)).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
  });
});
