/**
 * A registry store with every case a garbage collector must get right, pushed through stowage's HTTP API:
 * tagged, re-tagged (untagged history), pushed-by-digest, deleted manifests, a multi-arch index, a referrer,
 * layers shared across repositories and a blob no manifest references. The test knows what each digest is.
 */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar';

export const sha256 = (content: Uint8Array): string => `sha256:${createHash('sha256').update(content).digest('hex')}`;

export interface Pushed {
  readonly digest: string;
  readonly size: number;
}

export interface PushedImage extends Pushed {
  readonly config: string;
  readonly layers: readonly string[];
}

export class StoreClient {
  constructor(readonly url: string) {}

  async blob(repository: string, content: Uint8Array | string): Promise<Pushed> {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    const digest = sha256(bytes);
    const response = await fetch(`${this.url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    await response.arrayBuffer();
    if (response.status !== 201) throw new Error(`blob push to ${repository} answered ${response.status}`);
    return { digest, size: bytes.length };
  }

  async mount(repository: string, digest: string, from: string): Promise<number> {
    const response = await fetch(`${this.url}/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
    await response.arrayBuffer();
    return response.status;
  }

  async manifest(repository: string, reference: string | undefined, document: object): Promise<Pushed> {
    const content = Buffer.from(JSON.stringify(document));
    const digest = sha256(content);
    const mediaType = (document as { mediaType: string }).mediaType;
    const response = await fetch(`${this.url}/v2/${repository}/manifests/${reference ?? digest}`, {
      method: 'PUT',
      body: content,
      headers: { 'content-type': mediaType },
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`manifest push to ${repository}:${reference ?? digest} answered ${response.status}: ${text}`);
    return { digest, size: content.length };
  }

  /** Pushes a config and layers (given as contents) and an image manifest naming them, by tag or by digest. */
  async image(repository: string, reference: string | undefined, config: string, layers: readonly string[], extra: { subject?: Pushed; artifactType?: string } = {}): Promise<PushedImage> {
    const configBlob = await this.blob(repository, config);
    const layerBlobs: Pushed[] = [];
    for (const layer of layers) layerBlobs.push(await this.blob(repository, layer));
    const pushed = await this.manifest(repository, reference, {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      ...(extra.artifactType ? { artifactType: extra.artifactType } : {}),
      config: { mediaType: CONFIG_TYPE, ...configBlob },
      layers: layerBlobs.map((layer) => ({ mediaType: LAYER_TYPE, ...layer })),
      ...(extra.subject ? { subject: { mediaType: OCI_MANIFEST, ...extra.subject } } : {}),
    });
    return { ...pushed, config: configBlob.digest, layers: layerBlobs.map((layer) => layer.digest) };
  }

  async index(repository: string, reference: string | undefined, children: readonly Pushed[]): Promise<Pushed> {
    return this.manifest(repository, reference, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: children.map((child, i) => ({ mediaType: OCI_MANIFEST, ...child, platform: { os: 'linux', architecture: ['amd64', 'arm64', 's390x'][i % 3] } })),
    });
  }

  async deleteManifest(repository: string, reference: string): Promise<number> {
    const response = await fetch(`${this.url}/v2/${repository}/manifests/${reference}`, { method: 'DELETE' });
    await response.arrayBuffer();
    return response.status;
  }

  async manifestStatus(repository: string, reference: string): Promise<number> {
    const response = await fetch(`${this.url}/v2/${repository}/manifests/${reference}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
    await response.arrayBuffer();
    return response.status;
  }

  /** The blob's bytes hash to its digest (redirects followed, as clients do). */
  async blobIntact(repository: string, digest: string): Promise<boolean> {
    const response = await fetch(`${this.url}/v2/${repository}/blobs/${digest}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return response.status === 200 && sha256(bytes) === digest;
  }

  async referrers(repository: string, digest: string): Promise<string[]> {
    const response = await fetch(`${this.url}/v2/${repository}/referrers/${digest}`);
    const body = (await response.json()) as { manifests?: { digest: string }[] };
    return (body.manifests ?? []).map((m) => m.digest).sort();
  }
}

/** What the scenario pushed, by role. */
export interface Scenario {
  /** gc/app:v1, tagged; shares `sharedLayer` */
  readonly tagged: PushedImage;
  /** was gc/app:v2 until v2 moved to `retagged`: untagged, but in v2's tag history */
  readonly formerlyTagged: PushedImage;
  readonly retagged: PushedImage;
  /** gc/app, pushed by digest, never tagged */
  readonly untagged: PushedImage;
  /** gc/app:old, then deleted by digest */
  readonly deleted: PushedImage;
  /** a blob uploaded to gc/app that no manifest names */
  readonly orphan: Pushed;
  /** gc/multi: two children pushed by digest and the index tagged `latest` */
  readonly children: readonly PushedImage[];
  readonly index: Pushed;
  /** gc/signed:v1 and an untagged signature whose subject it is */
  readonly signed: PushedImage;
  readonly signature: PushedImage;
  /** gc/other, untagged, uses the shared layer */
  readonly otherUntagged: PushedImage;
  /** gc/other:kept */
  readonly otherTagged: PushedImage;
  readonly sharedLayer: string;
}

export const SHARED_LAYER = 'a layer several images share';

export async function pushScenario(client: StoreClient, salt = ''): Promise<Scenario> {
  const s = (text: string) => `${text}${salt}`;
  const tagged = await client.image('gc/app', 'v1', s('config of v1'), [SHARED_LAYER + salt, s('layer only v1 has')]);
  const formerlyTagged = await client.image('gc/app', 'v2', s('config of the first v2'), [s('layer of the first v2')]);
  const retagged = await client.image('gc/app', 'v2', s('config of the second v2'), [s('layer of the second v2')]);
  const untagged = await client.image('gc/app', undefined, s('config pushed by digest'), [s('layer pushed by digest')]);
  const deleted = await client.image('gc/app', 'old', s('config of a deleted image'), [s('layer of a deleted image')]);
  if ((await client.deleteManifest('gc/app', deleted.digest)) !== 202) throw new Error('deleting gc/app@deleted failed');
  const orphan = await client.blob('gc/app', s('a blob no manifest references'));

  const children = [
    await client.image('gc/multi', undefined, s('config of amd64'), [s('layer of amd64')]),
    await client.image('gc/multi', undefined, s('config of arm64'), [SHARED_LAYER + salt]),
  ];
  const index = await client.index('gc/multi', 'latest', children);

  const signed = await client.image('gc/signed', 'v1', s('config of the signed image'), [s('layer of the signed image')]);
  const signature = await client.image('gc/signed', undefined, s('{"signature config":1}'), [s('a signature')], {
    subject: signed,
    artifactType: 'application/vnd.example.signature',
  });

  const otherUntagged = await client.image('gc/other', undefined, s('config of an untagged image elsewhere'), [SHARED_LAYER + salt]);
  const otherTagged = await client.image('gc/other', 'kept', s('config of a tagged image elsewhere'), [s('layer of a tagged image elsewhere')]);
  return { tagged, formerlyTagged, retagged, untagged, deleted, orphan, children, index, signed, signature, otherUntagged, otherTagged, sharedLayer: tagged.layers[0]! };
}

/** Every file under a storage folder, relative to it (upload sessions excluded). */
export async function storedFiles(root: string): Promise<Set<string>> {
  const files = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '_uploads') await walk(full);
      } else {
        files.add(path.relative(root, full));
      }
    }
  };
  await walk(root);
  return files;
}

export const minus = <T>(a: Set<T>, b: Set<T>): Set<T> => new Set([...a].filter((x) => !b.has(x)));

const V2 = 'docker/registry/v2';
const hexOf = (digest: string): string => digest.slice('sha256:'.length);
export const blobFile = (digest: string): string => `${V2}/blobs/sha256/${hexOf(digest).slice(0, 2)}/${hexOf(digest)}/data`;
export const revisionFile = (repository: string, digest: string): string => `${V2}/repositories/${repository}/_manifests/revisions/sha256/${hexOf(digest)}/link`;
export const tagIndexFile = (repository: string, tag: string, digest: string): string =>
  `${V2}/repositories/${repository}/_manifests/tags/${tag}/index/sha256/${hexOf(digest)}/link`;
export const layerLinkFile = (repository: string, digest: string): string => `${V2}/repositories/${repository}/_layers/sha256/${hexOf(digest)}/link`;
export const isLayerLink = (file: string): boolean => /\/_layers\/sha256\/[0-9a-f]{64}\/link$/.test(file);
export const allBlobsOf = (image: PushedImage): string[] => [image.digest, image.config, ...image.layers];
