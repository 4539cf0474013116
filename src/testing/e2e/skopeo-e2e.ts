import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImageLayout, buildMultiArchLayout, readLayout, sha256Digest, type BuiltLayout } from './oci-layout.js';
import { getBlobDigest, getManifest } from './registry-client.js';
import type { RunningRegistry, StartRegistry } from './registry-under-test.js';
import { dockerRef, ociRef, Skopeo } from './skopeo.js';

/** Every blob of a layout, manifests excepted, must be served by the registry under its digest. */
async function expectBlobsServed(registry: RunningRegistry, repository: string, layout: BuiltLayout, manifestDigests: string[]): Promise<void> {
  for (const digest of layout.blobDigests) {
    if (manifestDigests.includes(digest)) continue;
    const served = await getBlobDigest(registry.url, repository, digest);
    expect(served.status, `GET blob ${digest} in ${repository}`).toBe(200);
    expect(served.digest).toBe(digest);
  }
}

/** The round trip back from the registry must give the same tag target and the same blobs, byte for byte. */
async function expectSameLayout(original: BuiltLayout, copyDir: string, tag: string): Promise<void> {
  const copy = await readLayout(copyDir);
  expect(copy.tags.get(tag)).toBe(original.rootDigest);
  expect([...copy.blobs.keys()].sort()).toEqual([...original.blobDigests].sort());
  for (const [name, actual] of copy.blobs) expect(actual, `content of blob ${name}`).toBe(name);
}

/**
 * The end-to-end suite with the real skopeo client: push, pull, inspect, list tags, copy between
 * repositories and delete. A driver author runs it against a registry on their driver with one call.
 */
export function describeSkopeoE2E(name: string, startRegistry: StartRegistry): void {
  describe(`skopeo end to end: ${name}`, () => {
    let registry: RunningRegistry;
    let skopeo: Skopeo;
    let workdir: string;
    let image: BuiltLayout;
    let multiArch: BuiltLayout;
    const imageRepo = 'e2e/image';
    const indexRepo = 'e2e/multiarch';

    beforeAll(async () => {
      skopeo = await Skopeo.create();
      workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-e2e-'));
      image = await buildImageLayout(path.join(workdir, 'image'), 'v1', `${name}/image`);
      multiArch = await buildMultiArchLayout(path.join(workdir, 'multiarch'), 'multi', `${name}/multiarch`);
      registry = await startRegistry();
    });

    afterAll(async () => {
      await registry?.close();
      await skopeo?.dispose();
      if (workdir) await rm(workdir, { recursive: true, force: true });
    });

    it('pushes a multi-layer OCI image and serves its manifest and every layer under the same digests', async () => {
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(registry.host, imageRepo, 'v1'), ['--preserve-digests']);
      const manifest = await getManifest(registry.url, imageRepo, 'v1');
      expect(manifest.status).toBe(200);
      expect(sha256Digest(manifest.body)).toBe(image.rootDigest);
      expect(manifest.dockerContentDigest).toBe(image.rootDigest);
      expect(manifest.contentType).toBe('application/vnd.oci.image.manifest.v1+json');
      await expectBlobsServed(registry, imageRepo, image, [image.rootDigest]);
    });

    it('pulls the image back into an OCI layout byte for byte', async () => {
      const copyDir = path.join(workdir, 'image-pulled');
      await skopeo.copy(dockerRef(registry.host, imageRepo, 'v1'), ociRef(copyDir, 'v1'), ['--preserve-digests']);
      await expectSameLayout(image, copyDir, 'v1');
    });

    it('pushes and pulls a multi-arch image index with both platforms intact (--all)', async () => {
      await skopeo.copy(ociRef(multiArch.dir, 'multi'), dockerRef(registry.host, indexRepo, 'multi'), ['--all', '--preserve-digests']);
      const index = await getManifest(registry.url, indexRepo, 'multi');
      expect(index.status).toBe(200);
      expect(sha256Digest(index.body)).toBe(multiArch.rootDigest);
      expect(index.contentType).toBe('application/vnd.oci.image.index.v1+json');
      const children = (JSON.parse(index.body.toString('utf8')) as { manifests: { digest: string; platform: { architecture: string } }[] }).manifests;
      expect(children.map((child) => child.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
      for (const child of children) {
        const manifest = await getManifest(registry.url, indexRepo, child.digest);
        expect(manifest.status).toBe(200);
        expect(sha256Digest(manifest.body)).toBe(child.digest);
      }
      await expectBlobsServed(registry, indexRepo, multiArch, [multiArch.rootDigest, ...children.map((child) => child.digest)]);

      const copyDir = path.join(workdir, 'multiarch-pulled');
      await skopeo.copy(dockerRef(registry.host, indexRepo, 'multi'), ociRef(copyDir, 'multi'), ['--all', '--preserve-digests']);
      await expectSameLayout(multiArch, copyDir, 'multi');
    });

    it('skopeo inspect reports the digest, platform and layers, and --raw returns the stored manifest bytes', async () => {
      const inspected = JSON.parse((await skopeo.inspect(dockerRef(registry.host, imageRepo, 'v1'))).stdout) as {
        Digest: string;
        Architecture: string;
        Os: string;
        Layers: string[];
        RepoTags: string[];
      };
      expect(inspected.Digest).toBe(image.rootDigest);
      expect(inspected.Architecture).toBe('amd64');
      expect(inspected.Os).toBe('linux');
      expect(inspected.Layers).toHaveLength(3);
      expect(inspected.RepoTags).toContain('v1');
      const raw = (await skopeo.inspect(dockerRef(registry.host, imageRepo, 'v1'), ['--raw'])).stdout;
      expect(sha256Digest(Buffer.from(raw, 'utf8'))).toBe(image.rootDigest);
    });

    it('skopeo list-tags lists every tag of a repository', async () => {
      await skopeo.copy(dockerRef(registry.host, imageRepo, 'v1'), dockerRef(registry.host, imageRepo, 'v2'), ['--preserve-digests']);
      await skopeo.copy(dockerRef(registry.host, imageRepo, 'v1'), dockerRef(registry.host, imageRepo, 'latest'), ['--preserve-digests']);
      const tags = await skopeo.listTags(`docker://${registry.host}/${imageRepo}`);
      expect([...tags].sort()).toEqual(['latest', 'v1', 'v2']);
    });

    it('copies an image between two repositories of the registry (blobs mounted, digests kept)', async () => {
      const { stderr } = await skopeo.copy(dockerRef(registry.host, imageRepo, 'v1'), dockerRef(registry.host, 'e2e/mounted', 'v1'), ['--preserve-digests']);
      expect(stderr).not.toMatch(/error/i);
      const manifest = await getManifest(registry.url, 'e2e/mounted', 'v1');
      expect(manifest.status).toBe(200);
      expect(sha256Digest(manifest.body)).toBe(image.rootDigest);
      await expectBlobsServed(registry, 'e2e/mounted', image, [image.rootDigest]);
      // the mount skopeo asks for, checked directly: 201 and the blob's new address, no upload session
      const layer = [...image.blobDigests].find((digest) => digest !== image.rootDigest) as string;
      const mount = await fetch(`${registry.url}/v2/e2e/mounted-again/blobs/uploads/?mount=${layer}&from=${imageRepo}`, { method: 'POST' });
      await mount.arrayBuffer();
      expect(mount.status).toBe(201);
      expect(new URL(mount.headers.get('location') ?? '', registry.url).pathname).toBe(`/v2/e2e/mounted-again/blobs/${layer}`);
      expect((await getBlobDigest(registry.url, 'e2e/mounted-again', layer)).digest).toBe(layer);
    });

    it('skopeo delete removes the manifest so the tag and the digest no longer resolve', async () => {
      await skopeo.delete(dockerRef(registry.host, 'e2e/mounted', 'v1'));
      expect((await getManifest(registry.url, 'e2e/mounted', image.rootDigest)).status).toBe(404);
      expect((await getManifest(registry.url, 'e2e/mounted', 'v1')).status).toBe(404);
      await expect(skopeo.inspect(dockerRef(registry.host, 'e2e/mounted', 'v1'))).rejects.toThrow();
      expect((await getManifest(registry.url, imageRepo, 'v1')).status).toBe(200);
    });
  });
}
