import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBlob, pushManifestTo } from '../support/push-by-url.js';
import {
  buildImageLayout,
  buildMultiArchLayout,
  dockerRef,
  garbageCollectWithDistribution,
  ociRef,
  readLayout,
  sha256Digest,
  Skopeo,
  startDistribution,
  startStowageInProcess,
  type BuiltLayout,
  type RunningRegistry,
} from '../support/index.js';

/** Every file under the registry's storage folder, by relative path, with its content (uploads in flight excluded). */
async function storedFiles(rootdirectory: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      const relative = path.relative(rootdirectory, full);
      if (entry.isDirectory()) {
        if (entry.name !== '_uploads') await walk(full);
      } else {
        const content = await readFile(full);
        files.set(relative, relative.endsWith('/data') ? `${content.length} bytes` : content.toString('utf8'));
      }
    }
  };
  await walk(rootdirectory);
  return files;
}

async function expectRoundTrip(skopeo: Skopeo, registry: RunningRegistry, layout: BuiltLayout, repository: string, into: string, all: boolean): Promise<void> {
  const extra = all ? ['--all', '--preserve-digests'] : ['--preserve-digests'];
  await skopeo.copy(dockerRef(registry.host, repository, layout.tag), ociRef(into, layout.tag), extra);
  const copy = await readLayout(into);
  expect(copy.tags.get(layout.tag)).toBe(layout.rootDigest);
  expect([...copy.blobs.keys()].sort()).toEqual([...layout.blobDigests].sort());
  for (const [name, actual] of copy.blobs) expect(actual).toBe(name);
}

/** pushes `document` as a manifest under `reference` (it must be taken); its digest and size */
async function pushManifestOver(url: string, repository: string, reference: string, document: { readonly mediaType: string; readonly [field: string]: unknown }): Promise<{ digest: string; size: number }> {
  const content = Buffer.from(JSON.stringify(document));
  expect(await pushManifestTo(url, repository, reference, content, document.mediaType)).toBe(201);
  return { digest: sha256Digest(content), size: content.length };
}

describe('storage folders are interchangeable between distribution 2.8 and stowage (filesystem driver)', () => {
  let skopeo: Skopeo;
  let workdir: string;
  let image: BuiltLayout;
  let multiArch: BuiltLayout;

  beforeAll(async () => {
    skopeo = await Skopeo.create();
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-compat-'));
    image = await buildImageLayout(path.join(workdir, 'image'), 'v1', 'compat/image');
    multiArch = await buildMultiArchLayout(path.join(workdir, 'multiarch'), 'multi', 'compat/multiarch');
  });
  afterAll(async () => {
    await skopeo?.dispose();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('stowage serves, byte for byte, the images distribution 2.8 stored in a folder', async () => {
    const rootdirectory = path.join(workdir, 'written-by-distribution');
    const distribution = await startDistribution({ rootdirectory });
    try {
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(distribution.host, 'compat/app', 'v1'), ['--preserve-digests']);
      await skopeo.copy(ociRef(multiArch.dir, 'multi'), dockerRef(distribution.host, 'compat/multi', 'multi'), ['--all', '--preserve-digests']);
    } finally {
      await distribution.close();
    }
    const stowage = await startStowageInProcess({ rootdirectory });
    try {
      await expectRoundTrip(skopeo, stowage, image, 'compat/app', path.join(workdir, 'from-stowage-image'), false);
      await expectRoundTrip(skopeo, stowage, multiArch, 'compat/multi', path.join(workdir, 'from-stowage-multi'), true);
      expect(await skopeo.listTags(`docker://${stowage.host}/compat/app`)).toEqual(['v1']);
    } finally {
      await stowage.close();
    }
  });

  it('distribution 2.8 serves, byte for byte, the images stowage stored in a folder', async () => {
    const rootdirectory = path.join(workdir, 'written-by-stowage');
    const stowage = await startStowageInProcess({ rootdirectory });
    try {
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(stowage.host, 'compat/app', 'v1'), ['--preserve-digests']);
      await skopeo.copy(ociRef(multiArch.dir, 'multi'), dockerRef(stowage.host, 'compat/multi', 'multi'), ['--all', '--preserve-digests']);
    } finally {
      await stowage.close();
    }
    const distribution = await startDistribution({ rootdirectory });
    try {
      await expectRoundTrip(skopeo, distribution, image, 'compat/app', path.join(workdir, 'from-distribution-image'), false);
      await expectRoundTrip(skopeo, distribution, multiArch, 'compat/multi', path.join(workdir, 'from-distribution-multi'), true);
      expect(await skopeo.listTags(`docker://${distribution.host}/compat/app`)).toEqual(['v1']);
    } finally {
      await distribution.close();
    }
  });

  it("distribution 2.8's garbage collector keeps every blob of the images stowage stored, and only those", async () => {
    const rootdirectory = path.join(workdir, 'collected-by-distribution');
    const stowage = await startStowageInProcess({ rootdirectory });
    const orphan = Buffer.from('a blob no manifest references');
    const orphanDigest = sha256Digest(orphan);
    try {
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(stowage.host, 'compat/app', 'v1'), ['--preserve-digests']);
      await skopeo.copy(ociRef(multiArch.dir, 'multi'), dockerRef(stowage.host, 'compat/multi', 'multi'), ['--all', '--preserve-digests']);
      const pushed = await fetch(`${stowage.url}/v2/compat/app/blobs/uploads/?digest=${orphanDigest}`, { method: 'POST', body: orphan });
      await pushed.arrayBuffer();
      expect(pushed.status).toBe(201);
    } finally {
      await stowage.close();
    }
    const blobData = (digest: string): string =>
      path.join(rootdirectory, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');
    expect(existsSync(blobData(orphanDigest))).toBe(true);
    await garbageCollectWithDistribution(rootdirectory);
    expect(existsSync(blobData(orphanDigest)), 'the unreferenced blob is swept').toBe(false);
    for (const digest of [...image.blobDigests, ...multiArch.blobDigests]) expect(existsSync(blobData(digest)), `${digest} is kept`).toBe(true);
    const after = await startStowageInProcess({ rootdirectory });
    try {
      await expectRoundTrip(skopeo, after, image, 'compat/app', path.join(workdir, 'after-gc-image'), false);
      await expectRoundTrip(skopeo, after, multiArch, 'compat/multi', path.join(workdir, 'after-gc-multi'), true);
    } finally {
      await after.close();
    }
  });

  it('referrers a client pushed to distribution 2.8 (with the tag-schema index) are listed by stowage\'s referrers API', async () => {
    const rootdirectory = path.join(workdir, 'referrers-by-distribution');
    const repository = 'compat/signed';
    const artifactType = 'application/vnd.example.signature';
    const distribution = await startDistribution({ rootdirectory });
    let subject: { digest: string; size: number };
    let artifact: { digest: string; size: number };
    try {
      const url = distribution.url;
      const emptyConfig = (await pushBlob(url, repository, Buffer.from('{}'))).digest;
      const layer = (await pushBlob(url, repository, Buffer.from('the signed content'))).digest;
      const signature = (await pushBlob(url, repository, Buffer.from('a signature'))).digest;
      const manifest = 'application/vnd.oci.image.manifest.v1+json';
      subject = await pushManifestOver(url, repository, 'v1', {
        schemaVersion: 2,
        mediaType: manifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: emptyConfig, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layer, size: 18 }],
      });
      const artifactDocument = {
        schemaVersion: 2,
        mediaType: manifest,
        artifactType,
        config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyConfig, size: 2 },
        layers: [{ mediaType: 'application/octet-stream', digest: signature, size: 11 }],
        subject: { mediaType: manifest, ...subject },
        annotations: { 'org.example.signed-by': 'compat test' },
      };
      artifact = await pushManifestOver(url, repository, sha256Digest(Buffer.from(JSON.stringify(artifactDocument))), artifactDocument);
      // what a client does for a registry without the referrers API: keep the tag-schema index itself
      await pushManifestOver(url, repository, subject.digest.replace(':', '-'), {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: manifest, ...artifact, artifactType, annotations: { 'org.example.signed-by': 'compat test' } }],
      });
    } finally {
      await distribution.close();
    }
    const stowage = await startStowageInProcess({ rootdirectory });
    try {
      for (const query of ['', `?artifactType=${encodeURIComponent(artifactType)}`]) {
        const response = await fetch(`${stowage.url}/v2/${repository}/referrers/${subject.digest}${query}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
        const index = (await response.json()) as { manifests: { digest: string; artifactType?: string }[] };
        expect(index.manifests.map((entry) => [entry.digest, entry.artifactType])).toEqual([[artifact.digest, artifactType]]);
      }
    } finally {
      await stowage.close();
    }
  });

  it('the same push leaves the same files, with the same link contents, under both registries', async () => {
    const servedByStowage = await storedFiles(path.join(workdir, 'written-by-distribution'));
    // stowage served this folder in the first test, and built its catalog index there at start (as serve does
    // on a tree without one): only that index, no journal, since nothing was pushed through it
    const indexOnly = [...servedByStowage.keys()].filter((file) => file.startsWith('_stowage/'));
    for (const file of indexOnly) expect(file).toMatch(/^_stowage\/catalog\/(current|base\/[^/]+)$/);
    const byDistribution = new Map([...servedByStowage].filter(([file]) => !file.startsWith('_stowage/')));
    const withOwnObjects = await storedFiles(path.join(workdir, 'written-by-stowage'));
    // stowage's own objects live beside distribution's tree, where distribution never looks: here the catalog
    // index (the base `stowage serve` writes at start, and a journal entry per repository pushed; docs/api.md)
    // and the key its upload ids are signed with (src/registry/upload-tokens.ts)
    const own = [...withOwnObjects.keys()].filter((file) => file.startsWith('_stowage/'));
    expect(own.length).toBeGreaterThan(0);
    for (const file of own) expect(file).toMatch(/^_stowage\/(catalog\/(current|base\/[^/]+|journal\/[^/]+)|uploads\/keys\/[A-Za-z0-9_-]{8})$/);
    const byStowage = new Map([...withOwnObjects].filter(([file]) => !file.startsWith('_stowage/')));
    // 14 blobs and their links at least: the comparison is not between two empty trees
    expect(byDistribution.size).toBeGreaterThan(30);
    expect([...byStowage.keys()].sort()).toEqual([...byDistribution.keys()].sort());
    for (const [file, content] of byDistribution) expect(byStowage.get(file), file).toBe(content);
  });
});
