import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarArchive } from '../support/tar.js';

/**
 * The content the conformance suite pushes, rebuilt from the suite's description (setup.go, v1.1.1):
 * one config and one manifest per workflow slot (five slots), a small gzip tar layer, a 42-byte blob for
 * the streamed upload, a 42-byte blob split in two chunks, and artifacts whose `subject` is manifest 4.
 * Every run gets fresh random configs, so digests never collide with an earlier run.
 */

export const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const ANNOTATION_KEY = 'org.opencontainers.conformance.test';
export const ARTIFACT_TYPE_A = 'application/vnd.nhl.peanut.butter.bagel';
export const ARTIFACT_TYPE_B = 'application/vnd.nba.strawberry.jam.croissant';
export const ARTIFACT_TYPE_INDEX = 'application/vnd.food.stand';
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
/** the error codes the suite accepts in an OCI error body */
export const ERROR_CODES = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MANIFEST_UNVERIFIED',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
];

/** A real, tiny image layer: a gzip tar holding one text file. */
function tinyLayer(): Buffer {
  return gzipSync(tarArchive([{ name: 'conformance.txt', content: Buffer.from('a layer pushed by the stowage port of the OCI conformance suite\n') }]));
}

export interface Blob {
  readonly content: Buffer;
  readonly digest: string;
}

export function digestOf(content: Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

function blob(content: Buffer): Blob {
  return { content, digest: digestOf(content) };
}

interface DescriptorFields {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  data?: Buffer;
  artifactType?: string;
  unspecified?: Buffer;
}

/**
 * A descriptor as the suite serialises it: optional fields left out when empty, plus a field no spec
 * defines (`newUnspecifiedField`, null unless set) that a registry must store and serve untouched.
 */
function descriptor(fields: DescriptorFields): Record<string, unknown> {
  const out: Record<string, unknown> = { mediaType: fields.mediaType, digest: fields.digest, size: fields.size };
  if (fields.annotations) out.annotations = fields.annotations;
  if (fields.data) out.data = fields.data.toString('base64');
  if (fields.artifactType) out.artifactType = fields.artifactType;
  out.newUnspecifiedField = fields.unspecified ? fields.unspecified.toString('base64') : null;
  return out;
}

function indented(document: unknown): Buffer {
  return Buffer.from(JSON.stringify(document, null, '\t'));
}

function randomAuthor(): string {
  const letters = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-';
  let author = '';
  for (let i = 0; i < 16; i++) author += letters[randomInt(letters.length)];
  return author;
}

export interface ChunkedBlob {
  readonly blob: Blob;
  readonly chunk1: Buffer;
  readonly chunk2: Buffer;
  /** inclusive byte ranges, `0-<end>` and `<start>-<end>` */
  readonly chunk1Range: string;
  readonly chunk2Range: string;
}

/** A random blob split after its middle byte: the first chunk is one byte longer than the second. */
export function chunkedBlob(size: number): ChunkedBlob {
  const content = randomBytes(size);
  const split = Math.floor(size / 2) + 1;
  return {
    blob: blob(content),
    chunk1: content.subarray(0, split),
    chunk2: content.subarray(split),
    chunk1Range: `0-${split - 1}`,
    chunk2Range: `${split}-${size - 1}`,
  };
}

export interface ConformanceFixtures {
  readonly configs: Blob[];
  readonly manifests: Blob[];
  readonly layer: Blob;
  readonly emptyLayerManifest: Blob;
  readonly blobA: Blob;
  chunked: ChunkedBlob;
  readonly emptyJson: Blob;
  readonly refBlobA: Blob;
  readonly refBlobB: Blob;
  readonly refsManifestAConfigArtifact: Blob;
  readonly refsManifestBConfigArtifact: Blob;
  readonly refsManifestALayerArtifact: Blob;
  readonly refsManifestBLayerArtifact: Blob;
  readonly refsManifestCLayerArtifact: Blob;
  readonly refsIndexArtifact: Blob;
  /** expected annotation value per referrer digest */
  readonly annotationValues: ReadonlyMap<string, string>;
  /** a digest of content nobody pushes */
  readonly dummyDigest: string;
  readonly nonexistentManifest: string;
  readonly invalidManifestContent: Buffer;
}

const WORKFLOW_SLOTS = 5;

export function buildFixtures(): ConformanceFixtures {
  const configs: Blob[] = [];
  for (let i = 0; i < WORKFLOW_SLOTS; i++) {
    configs.push(blob(indented({ author: randomAuthor(), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })));
  }
  const layer = blob(tinyLayer());
  const layerDescriptor = descriptor({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.content.length });
  const configDescriptor = (config: Blob): Record<string, unknown> =>
    descriptor({
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: config.digest,
      size: config.content.length,
      data: config.content,
      unspecified: Buffer.from('hello world'),
    });
  const manifests = configs.map((config) =>
    blob(indented({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, config: configDescriptor(config), layers: [layerDescriptor] })),
  );
  // no mediaType field: the manifest is recognised by its Content-Type alone
  const emptyLayerManifest = blob(indented({ schemaVersion: 2, config: configDescriptor(configs[1]!), layers: [] }));

  const emptyJson = blob(Buffer.from('{}'));
  const emptyJsonDescriptor = descriptor({ mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyJson.digest, size: emptyJson.content.length });
  const refBlobA = blob(Buffer.from('NHL Peanut Butter on my NHL bagel'));
  const refBlobB = blob(Buffer.from('NBA Strawberry Jam on my NBA croissant'));
  const subjectOf = (manifest: Blob): Record<string, unknown> =>
    descriptor({ mediaType: MANIFEST_MEDIA_TYPE, digest: manifest.digest, size: manifest.content.length });
  const subject = subjectOf(manifests[4]!);
  const annotationValues = new Map<string, string>();
  const artifact = (document: Record<string, unknown>, annotation?: string): Blob => {
    const body = { schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPE, ...document, ...(annotation ? { annotations: { [ANNOTATION_KEY]: annotation } } : {}) };
    const built = blob(indented(body));
    if (annotation) annotationValues.set(built.digest, annotation);
    return built;
  };
  const refBlobDescriptor = (ref: Blob, mediaType: string): Record<string, unknown> =>
    descriptor({ mediaType, digest: ref.digest, size: ref.content.length });

  // artifact type carried by the config media type
  const refsManifestAConfigArtifact = artifact(
    { config: refBlobDescriptor(refBlobA, ARTIFACT_TYPE_A), layers: [emptyJsonDescriptor], subject },
    'test config a',
  );
  const refsManifestBConfigArtifact = artifact(
    { config: refBlobDescriptor(refBlobB, ARTIFACT_TYPE_B), layers: [emptyJsonDescriptor], subject },
    'test config b',
  );
  // artifact type carried by `artifactType`, with the empty JSON config
  const refsManifestALayerArtifact = artifact(
    { artifactType: ARTIFACT_TYPE_A, config: emptyJsonDescriptor, layers: [refBlobDescriptor(refBlobA, ARTIFACT_TYPE_A)], subject },
    'test layer a',
  );
  const refsManifestBLayerArtifact = artifact(
    { artifactType: ARTIFACT_TYPE_B, config: emptyJsonDescriptor, layers: [refBlobDescriptor(refBlobB, ARTIFACT_TYPE_B)], subject },
    'test layer b',
  );
  // its subject (manifest 3) is never pushed before it
  const refsManifestCLayerArtifact = artifact({
    artifactType: ARTIFACT_TYPE_B,
    config: emptyJsonDescriptor,
    layers: [refBlobDescriptor(refBlobB, ARTIFACT_TYPE_B)],
    subject: subjectOf(manifests[3]!),
  });
  const refsIndexArtifact = blob(
    indented({
      schemaVersion: 2,
      mediaType: INDEX_MEDIA_TYPE,
      artifactType: ARTIFACT_TYPE_INDEX,
      manifests: [refsManifestAConfigArtifact, refsManifestALayerArtifact].map((m) =>
        descriptor({ mediaType: MANIFEST_MEDIA_TYPE, digest: m.digest, size: m.content.length }),
      ),
      subject,
      annotations: { [ANNOTATION_KEY]: 'test index' },
    }),
  );
  annotationValues.set(refsIndexArtifact.digest, 'test index');

  return {
    configs,
    manifests,
    layer,
    emptyLayerManifest,
    blobA: blob(randomBytes(42)),
    chunked: chunkedBlob(42),
    emptyJson,
    refBlobA,
    refBlobB,
    refsManifestAConfigArtifact,
    refsManifestBConfigArtifact,
    refsManifestALayerArtifact,
    refsManifestBLayerArtifact,
    refsManifestCLayerArtifact,
    refsIndexArtifact,
    annotationValues,
    dummyDigest: digestOf(Buffer.from('hello world')),
    nonexistentManifest: '.INVALID_MANIFEST_NAME',
    invalidManifestContent: Buffer.from('blablabla'),
  };
}

export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}
