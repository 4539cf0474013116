import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from './support/registry.js';

describe('the referrers API', () => {
  let registry: TestRegistry;
  let subject: { digest: string; manifest: string };
  let sbom: string;
  let signature: string;
  let signatureIndex: string;

  const pushReferrer = async (artifactType: string | undefined, configType: string, annotations?: Record<string, string>): Promise<string> => {
    const config = await pushBlob(registry, 'ref/repo', '{}');
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(artifactType ? { artifactType } : {}),
      config: { mediaType: configType, digest: config, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.manifest) },
      ...(annotations ? { annotations } : {}),
    });
    const response = await registry.send('PUT', `/v2/ref/repo/manifests/${sha256(body)}`, { body, headers: { 'content-type': OCI_MANIFEST } });
    expect(response.status).toBe(201);
    expect(response.headers['oci-subject']).toBe(subject.digest);
    return sha256(body);
  };

  beforeAll(async () => {
    registry = await startTestRegistry();
    subject = await pushImage(registry, 'ref/repo', 'base');
    sbom = await pushReferrer('application/vnd.example.sbom', 'application/vnd.oci.empty.v1+json', { 'org.example.kind': 'sbom' });
    signature = await pushReferrer(undefined, 'application/vnd.example.signature');
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      artifactType: 'application/vnd.example.signature',
      manifests: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.manifest) },
    });
    const response = await registry.send('PUT', `/v2/ref/repo/manifests/${sha256(body)}`, { body, headers: { 'content-type': OCI_INDEX } });
    expect(response.status).toBe(201);
    signatureIndex = sha256(body);
  });
  afterAll(async () => {
    await registry.close();
  });

  it('lists every manifest whose subject is the digest, as an image index with artifact types and annotations', async () => {
    const response = await registry.send('GET', `/v2/ref/repo/referrers/${subject.digest}`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(OCI_INDEX);
    expect(response.headers['oci-filters-applied']).toBeUndefined();
    const index = response.json<{ schemaVersion: number; mediaType: string; manifests: Record<string, unknown>[] }>();
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe(OCI_INDEX);
    const byDigest = new Map(index.manifests.map((descriptor) => [descriptor.digest, descriptor]));
    expect([...byDigest.keys()].sort()).toEqual([sbom, signature, signatureIndex].sort());
    expect(byDigest.get(sbom)).toMatchObject({ mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.sbom', annotations: { 'org.example.kind': 'sbom' } });
    // without artifactType, an image manifest's config media type stands in
    expect(byDigest.get(signature)).toMatchObject({ artifactType: 'application/vnd.example.signature' });
    expect(byDigest.get(signatureIndex)).toMatchObject({ mediaType: OCI_INDEX, artifactType: 'application/vnd.example.signature' });
    for (const descriptor of index.manifests) {
      const manifest = await registry.send('GET', `/v2/ref/repo/manifests/${descriptor.digest as string}`);
      expect(descriptor.size).toBe(manifest.body.length);
    }
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const response = await registry.send('GET', `/v2/ref/repo/referrers/${subject.digest}?artifactType=application/vnd.example.signature`);
    expect(response.status).toBe(200);
    expect(response.headers['oci-filters-applied']).toBe('artifactType');
    const digests = response.json<{ manifests: { digest: string }[] }>().manifests.map((d) => d.digest);
    expect(digests.sort()).toEqual([signature, signatureIndex].sort());
  });

  it('answers 200 with an empty index for a digest nothing refers to, even in an unknown repository', async () => {
    for (const path of [`/v2/ref/repo/referrers/${sha256('nothing')}`, `/v2/no/such/repo/referrers/${subject.digest}`]) {
      const response = await registry.send('GET', path);
      expect(response.status).toBe(200);
      expect(response.json()).toEqual({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    }
  });

  it('answers 400 DIGEST_INVALID for a malformed digest', async () => {
    const response = await registry.send('GET', '/v2/ref/repo/referrers/sha256:nope');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('a deleted referrer leaves the list', async () => {
    const extra = await pushReferrer('application/vnd.example.temporary', 'application/vnd.oci.empty.v1+json');
    expect((await registry.send('DELETE', `/v2/ref/repo/manifests/${extra}`)).status).toBe(202);
    const digests = (await registry.send('GET', `/v2/ref/repo/referrers/${subject.digest}`)).json<{ manifests: { digest: string }[] }>().manifests.map((d) => d.digest);
    expect(digests).not.toContain(extra);
    expect(digests).toHaveLength(3);
  });

  it('includes entries of a referrers tag-schema index written by clients before the API existed', async () => {
    const subjectHex = subject.digest.slice('sha256:'.length);
    const legacyEntry = { mediaType: OCI_MANIFEST, digest: sha256('legacy'), size: 6, artifactType: 'application/vnd.example.legacy' };
    const legacyIndex = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [legacyEntry] });
    const indexHex = sha256(legacyIndex).slice('sha256:'.length);
    // written straight to storage, as a registry without the API holds such an index
    await registry.driver.putContent(`/docker/registry/v2/blobs/sha256/${indexHex.slice(0, 2)}/${indexHex}/data`, Buffer.from(legacyIndex));
    await registry.driver.putContent(`/docker/registry/v2/repositories/ref/repo/_manifests/tags/sha256-${subjectHex}/current/link`, Buffer.from(sha256(legacyIndex)));
    const response = await registry.send('GET', `/v2/ref/repo/referrers/${subject.digest}?artifactType=application/vnd.example.legacy`);
    expect(response.json<{ manifests: unknown[] }>().manifests).toEqual([legacyEntry]);
  });
});
