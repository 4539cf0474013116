import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { deterministicBuffer } from './deterministic-bytes.js';
import { tarArchive } from './tar.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}

export function sha256Digest(content: Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

/** An OCI image layout folder being written: blobs by digest, and `index.json` naming the tagged roots. */
export class OciLayoutWriter {
  private readonly tagged: Descriptor[] = [];
  readonly blobDigests = new Set<string>();

  constructor(readonly dir: string) {}

  async writeBlob(mediaType: string, content: Uint8Array): Promise<Descriptor> {
    const digest = sha256Digest(content);
    const folder = path.join(this.dir, 'blobs', 'sha256');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, digest.slice('sha256:'.length)), content);
    this.blobDigests.add(digest);
    return { mediaType, digest, size: content.length };
  }

  async writeJson(mediaType: string, document: unknown): Promise<Descriptor> {
    return this.writeBlob(mediaType, Buffer.from(JSON.stringify(document, null, 2)));
  }

  tag(descriptor: Descriptor, tag: string): void {
    this.tagged.push({ ...descriptor, annotations: { [REF_NAME]: tag } });
  }

  async finish(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: this.tagged }));
  }
}

/** One image: a config and gzip tar layers of deterministic, incompressible files. */
export async function writeImage(
  layout: OciLayoutWriter,
  seed: string,
  layerSizes: readonly number[],
  platform = { architecture: 'amd64', os: 'linux' },
): Promise<Descriptor> {
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (const [i, size] of layerSizes.entries()) {
    const tar = tarArchive([
      { name: `layer${i}/` },
      { name: `layer${i}/data.bin`, content: deterministicBuffer(`${seed}/layer${i}`, size) },
      { name: `layer${i}/README`, content: Buffer.from(`layer ${i} of ${seed} (${platform.os}/${platform.architecture})\n`) },
    ]);
    diffIds.push(sha256Digest(tar));
    layers.push(await layout.writeBlob(OCI_LAYER_GZIP, gzipSync(tar, { level: 1 })));
  }
  const config = await layout.writeJson(OCI_CONFIG, {
    architecture: platform.architecture,
    os: platform.os,
    config: { Cmd: ['/bin/true'], Labels: { 'org.example.seed': seed } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: layerSizes.map((_, i) => ({ created_by: `stowage test layer ${i}` })),
  });
  return layout.writeJson(OCI_MANIFEST, { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers });
}

export interface BuiltLayout {
  readonly dir: string;
  readonly tag: string;
  /** digest of the tagged root (an image manifest or an image index) */
  readonly rootDigest: string;
  /** every blob of the layout, manifests included */
  readonly blobDigests: ReadonlySet<string>;
}

/** An OCI layout holding one multi-layer image under `tag`. */
export async function buildImageLayout(dir: string, tag = 'v1', seed = 'image', layerSizes = [4 * 1024, 300 * 1024, 1536 * 1024]): Promise<BuiltLayout> {
  const layout = new OciLayoutWriter(dir);
  const manifest = await writeImage(layout, seed, layerSizes);
  layout.tag(manifest, tag);
  await layout.finish();
  return { dir, tag, rootDigest: manifest.digest, blobDigests: layout.blobDigests };
}

/** An OCI layout holding a multi-arch image index (linux/amd64 and linux/arm64) under `tag`. */
export async function buildMultiArchLayout(dir: string, tag = 'multi', seed = 'multiarch'): Promise<BuiltLayout> {
  const layout = new OciLayoutWriter(dir);
  const platforms = [
    { architecture: 'amd64', os: 'linux' },
    { architecture: 'arm64', os: 'linux' },
  ];
  const children: Descriptor[] = [];
  for (const platform of platforms) {
    const manifest = await writeImage(layout, `${seed}/${platform.architecture}`, [16 * 1024, 200 * 1024], platform);
    children.push({ ...manifest, platform });
  }
  const index = await layout.writeJson(OCI_INDEX, { schemaVersion: 2, mediaType: OCI_INDEX, manifests: children });
  layout.tag(index, tag);
  await layout.finish();
  return { dir, tag, rootDigest: index.digest, blobDigests: layout.blobDigests };
}

export interface LayoutContent {
  /** digest named by `index.json` for each tag */
  readonly tags: ReadonlyMap<string, string>;
  /** digest -> sha256 of the file actually stored under that name */
  readonly blobs: ReadonlyMap<string, string>;
}

/** Reads back an OCI layout (for example one skopeo wrote), hashing every blob file. */
export async function readLayout(dir: string): Promise<LayoutContent> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const tags = new Map<string, string>();
  for (const entry of index.manifests) {
    const tag = entry.annotations?.[REF_NAME];
    if (tag) tags.set(tag, entry.digest);
  }
  const blobs = new Map<string, string>();
  const folder = path.join(dir, 'blobs', 'sha256');
  for (const name of await readdir(folder)) {
    blobs.set(`sha256:${name}`, sha256Digest(await readFile(path.join(folder, name))));
  }
  return { tags, blobs };
}
