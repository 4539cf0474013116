/**
 * Manifests: stored byte for byte as blobs, visible to a repository through a revision link, named by
 * tags (`current` link plus an index entry per digest ever tagged, as distribution writes them).
 */
import type { ObjectContent } from '../storage/driver.js';
import type { BlobStore } from './blobs.js';
import type { CatalogIndex } from './catalog-index.js';
import { digestBytes, parseDigest, tryParseDigest, verifyBytes, type Digest } from './digest.js';
import { RegistryError } from './errors.js';
import { basename, type StorageLayout } from './layout.js';
import { ManifestBytesCache } from './manifest-bytes-cache.js';
import { checkManifestBytes } from './manifest-shape.js';
import {
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_INDEX,
  OCI_MANIFEST,
  SUPPORTED_MANIFEST_TYPES,
  bareMediaType,
  manifestKind,
} from './media-types.js';
import { checkTag, isValidTag } from './names.js';
import type { RegistryStorage } from './storage.js';
import { removeTag } from './tags.js';

/** The spec asks registries to accept at least 4 MB; larger manifests are refused. */
export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;
/** `?tag=` parameters accepted in one push by digest */
export const MAX_TAGS_PER_PUSH = 100;

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly content: Uint8Array;
}

export interface PushedManifest {
  readonly digest: string;
  /** the tags now naming the manifest: the reference when it is a tag, else the `tag` parameters */
  readonly tags: readonly string[];
  /** the `subject` digest, when the manifest has one (answered as OCI-Subject) */
  readonly subject?: string;
}

/** The fields of a manifest stowage reads; everything else is kept as sent and never rewritten. */
export interface ManifestFields {
  readonly schemaVersion?: unknown;
  readonly mediaType?: unknown;
  readonly artifactType?: unknown;
  readonly config?: unknown;
  readonly layers?: unknown;
  readonly manifests?: unknown;
  readonly subject?: unknown;
  readonly annotations?: unknown;
}

export interface Descriptor {
  readonly mediaType?: string;
  readonly digest: string;
  readonly size: number;
  readonly urls?: readonly string[];
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

const decoder = new TextDecoder();

export function parseManifestJson(content: Uint8Array): ManifestFields | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(content));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ManifestFields) : undefined;
  } catch {
    return undefined;
  }
}

/** The media type a stored manifest is served with: its own `mediaType`, else what its shape says. */
export function storedMediaType(fields: ManifestFields | undefined): string {
  if (!fields) return 'application/octet-stream';
  if (typeof fields.mediaType === 'string' && fields.mediaType) return fields.mediaType;
  if (fields.schemaVersion === 1) return DOCKER_SCHEMA1_SIGNED;
  return Array.isArray(fields.manifests) ? OCI_INDEX : OCI_MANIFEST;
}

export class ManifestStore {
  private readonly bytesCache: ManifestBytesCache;

  /** `bytesCache`: the registry's, shared by its per-request views (a store of its own when absent) */
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly blobs: BlobStore,
    private readonly options: { readonly deleteEnabled: boolean; readonly bytesCache?: ManifestBytesCache; readonly catalogIndex?: CatalogIndex },
  ) {
    this.bytesCache = options.bytesCache ?? new ManifestBytesCache();
  }

  /** Resolves a tag or digest reference to the manifest's digest in `name`. */
  async resolve(name: string, reference: string): Promise<Digest> {
    if (reference.includes(':')) {
      const digest = parseDigest(reference);
      if (!(await this.hasRevision(name, digest))) throw unknownManifest(name, reference);
      return digest;
    }
    // a reference outside the tag grammar can name nothing: unknown, as distribution's router answers
    if (!isValidTag(reference)) throw unknownManifest(name, reference);
    const digest = await this.storage.readLink(this.layout.tagCurrentLink(name, reference));
    if (!digest || !(await this.hasRevision(name, digest))) throw unknownManifest(name, reference);
    return digest;
  }

  async get(name: string, reference: string): Promise<StoredManifest> {
    const digest = await this.resolve(name, reference);
    // the kept copy carries its media type: no parse of the manifest per GET
    const kept = this.bytesCache.get(digest.value);
    if (kept) return { digest: digest.value, mediaType: kept.mediaType, content: kept.content };
    const content = await this.readContent(digest);
    if (!content) throw unknownManifest(name, reference);
    return { digest: digest.value, mediaType: storedMediaType(parseManifestJson(content)), content };
  }

  /**
   * `extraTags`: the spec's `?tag=` parameters of a push by digest, each set to the manifest too.
   * `requireReferenced: false` (a manifest fetched by a mirror, whose blobs follow on demand) skips the check
   * that every blob and child manifest it names is already in the repository; its shape is checked all the same.
   */
  async put(
    name: string,
    reference: string,
    content: Uint8Array,
    contentType: string | undefined,
    extraTags: readonly string[] = [],
    options: { readonly requireReferenced?: boolean } = {},
  ): Promise<PushedManifest> {
    let digest: Digest;
    let tags: string[];
    if (reference.includes(':')) {
      digest = parseDigest(reference);
      if (extraTags.length > MAX_TAGS_PER_PUSH) {
        throw new RegistryError('MANIFEST_INVALID', `at most ${MAX_TAGS_PER_PUSH} tag parameters are accepted in one push`, { count: extraTags.length });
      }
      extraTags.forEach(checkTag);
      tags = [...new Set(extraTags)];
      verifyBytes(content, digest);
    } else {
      if (extraTags.length > 0) throw new RegistryError('MANIFEST_INVALID', 'tag parameters are only accepted when pushing a manifest by digest');
      checkTag(reference);
      tags = [reference];
      digest = parseDigest(digestBytes(content, 'sha256'));
    }
    if (content.length > MAX_MANIFEST_SIZE) {
      throw new RegistryError('MANIFEST_INVALID', `manifest is larger than ${MAX_MANIFEST_SIZE} bytes`, { size: content.length, limit: MAX_MANIFEST_SIZE });
    }

    checkManifestBytes(content);
    const fields = parseManifestJson(content);
    if (!fields) throw new RegistryError('MANIFEST_INVALID', 'manifest is not a JSON object');
    const mediaType = this.checkMediaType(fields, bareMediaType(contentType));
    // independent reads, side by side
    const [subject, storedSize] = await Promise.all([
      this.checkReferences(name, fields, mediaType, options.requireReferenced ?? true),
      this.storage.sizeOf(this.layout.blobData(digest)),
    ]);

    // the repository is in the catalog before anything of the push can be found, for every process (catalog-index.ts)
    await this.options.catalogIndex?.add(name);
    const bytesStored = storedSize === content.length;
    await this.storage.putInOrder(this.objectsOfPush(name, digest, bytesStored ? undefined : content, subject, tags));
    this.bytesCache.remember(digest.value, content, storedMediaType(fields));
    return { digest: digest.value, tags, ...(subject ? { subject: subject.value } : {}) };
  }

  /** Deletes a tag (a tag reference) or a manifest with every tag naming it (a digest reference); answers the tags removed. */
  async delete(name: string, reference: string): Promise<string[]> {
    if (!this.options.deleteEnabled) throw new RegistryError('UNSUPPORTED', 'deletes are disabled on this registry (storage.delete.enabled is false)');
    if (!reference.includes(':')) {
      if (!isValidTag(reference)) throw unknownManifest(name, reference);
      const current = await this.storage.readLink(this.layout.tagCurrentLink(name, reference));
      if (!current) throw unknownManifest(name, reference);
      await removeTag(this.storage, this.layout, name, reference);
      return [reference];
    }
    const digest = parseDigest(reference);
    if (!(await this.hasRevision(name, digest))) throw unknownManifest(name, reference);
    const content = await this.readContent(digest);
    const subject = content ? subjectOf(parseManifestJson(content)) : undefined;
    // Tags before the revision: a crash part-way leaves a manifest still reachable by digest (the delete
    // was not acknowledged and can be repeated), never a tag naming a manifest that is gone.
    const removed: string[] = [];
    for (const tagPath of (await this.storage.listOrUndefined(this.layout.tags(name))) ?? []) {
      const tag = basename(tagPath);
      const current = await this.storage.readLink(this.layout.tagCurrentLink(name, tag));
      if (current?.value !== digest.value) continue;
      await removeTag(this.storage, this.layout, name, tag);
      removed.push(tag);
    }
    if (subject) await this.storage.deleteIfPresent(this.layout.referrerLink(name, subject, digest).replace(/\/link$/, ''));
    await this.storage.deleteIfPresent(this.layout.revisionLink(name, digest));
    return removed;
  }

  /**
   * Whether `digest` is a manifest of `name`: a revision link, nothing else. A `_layers` link (where
   * distribution 2.1.0 also put manifests, and where every layer and config is linked) does not count: layer
   * digests are public, and the manifest endpoints would otherwise serve any layer whole.
   */
  async hasRevision(name: string, digest: Digest): Promise<boolean> {
    const link = await this.storage.readLink(this.layout.revisionLink(name, digest));
    return link?.value === digest.value;
  }

  /**
   * The stored bytes of a manifest, or undefined when absent or larger than any manifest stowage accepts:
   * the size is checked before reading, so no read is ever larger than MAX_MANIFEST_SIZE.
   */
  async readContent(digest: Digest): Promise<Uint8Array | undefined> {
    const cached = this.bytesCache.get(digest.value);
    if (cached) return cached.content;
    const path = this.layout.blobData(digest);
    const size = await this.storage.sizeOf(path);
    if (size === undefined || size > MAX_MANIFEST_SIZE) return undefined;
    const content = await this.storage.getOrUndefined(path);
    // grown since the stat (a concurrent writer): still not something to hand out as a manifest
    if (!content || content.length > MAX_MANIFEST_SIZE) return undefined;
    // only bytes that hash to their digest are kept (a blob file damaged on disk is served as stored, but not remembered)
    if (digestBytes(content, digest.algorithm) === digest.value) this.bytesCache.remember(digest.value, content, storedMediaType(parseManifestJson(content)));
    return content;
  }

  /**
   * What a push stores, in the order storage must show it (`putInOrder`: none is found without those
   * before it, even after a crash): the manifest's bytes (when not stored yet), its revision link, its
   * referrer link, then each tag's current link and index entry. So a revision never names missing bytes,
   * and a tag, listed as soon as its folder is (which storage makes appear with the link in it), resolves
   * from the moment it is listed: its current link comes first (a new tag's folder appears with both links
   * in it), and the revision it names is in place before. The revision link is in the list even when it is
   * there already: storing the same bytes again advances its time, which retention and garbage collection
   * read as the manifest's last push.
   */
  private objectsOfPush(name: string, digest: Digest, newContent: Uint8Array | undefined, subject: Digest | undefined, tags: readonly string[]): ObjectContent[] {
    const objects: ObjectContent[] = [];
    if (newContent) objects.push({ path: this.layout.blobData(digest), content: newContent });
    objects.push(this.storage.linkContent(this.layout.revisionLink(name, digest), digest));
    if (subject) objects.push(this.storage.linkContent(this.layout.referrerLink(name, subject, digest), digest));
    for (const tag of tags) {
      objects.push(this.storage.linkContent(this.layout.tagCurrentLink(name, tag), digest));
      objects.push(this.storage.linkContent(this.layout.tagIndexLink(name, tag, digest), digest));
    }
    return objects;
  }

  private checkMediaType(fields: ManifestFields, contentType: string | undefined): string {
    const declared = typeof fields.mediaType === 'string' ? fields.mediaType : undefined;
    if (fields.mediaType !== undefined && typeof fields.mediaType !== 'string') {
      throw new RegistryError('MANIFEST_INVALID', 'manifest mediaType must be a string');
    }
    if (fields.schemaVersion !== 2) {
      const schema1 = contentType === DOCKER_SCHEMA1 || contentType === DOCKER_SCHEMA1_SIGNED || fields.schemaVersion === 1;
      throw new RegistryError('MANIFEST_INVALID', schema1 ? 'Docker schema 1 manifests are not supported' : 'manifest schemaVersion must be 2');
    }
    if (declared && contentType && contentType !== 'application/json' && contentType !== 'application/octet-stream' && declared !== contentType) {
      throw new RegistryError('MANIFEST_INVALID', `manifest mediaType ${declared} does not match Content-Type ${contentType}`, { mediaType: declared, contentType });
    }
    const mediaType = declared ?? (contentType && manifestKind(contentType) ? contentType : storedMediaType(fields));
    if (!manifestKind(mediaType)) {
      throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${mediaType}; supported: ${SUPPORTED_MANIFEST_TYPES.join(', ')}`, { mediaType });
    }
    return mediaType;
  }

  /** Checks that every blob or child manifest the manifest names exists in the repository; returns its subject. */
  private async checkReferences(name: string, fields: ManifestFields, mediaType: string, requireReferenced: boolean): Promise<Digest | undefined> {
    // shape first, so a malformed manifest is MANIFEST_INVALID whatever the repository holds
    const subject = fields.subject === undefined ? undefined : parseDescriptorDigest(descriptorOf(fields.subject, 'subject'), 'subject');
    if (manifestKind(mediaType) === 'image') {
      const config = descriptorOf(fields.config, 'config');
      const layers = descriptorList(fields.layers, 'layers');
      const required = [{ digest: parseDescriptorDigest(config, 'config'), where: 'config' }];
      for (const [i, layer] of layers.entries()) {
        const digest = parseDescriptorDigest(layer, `layers[${i}]`);
        // foreign layers live elsewhere, by design
        if (!layer.urls || layer.urls.length === 0) required.push({ digest, where: `layers[${i}]` });
      }
      const known = requireReferenced ? await allOf(required, async ({ digest }) => (await this.blobs.isLinked(name, digest)) && (await this.blobs.isStored(digest))) : [];
      const missing = required.find((_, i) => known[i] === false);
      if (missing) throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${missing.digest.value} (${missing.where}) is not known to repository ${name}`, { digest: missing.digest.value });
    } else {
      const children = descriptorList(fields.manifests, 'manifests').map((child, i) => parseDescriptorDigest(child, `manifests[${i}]`));
      const known = requireReferenced ? await allOf(children, (digest) => this.hasRevision(name, digest)) : [];
      const missing = children.findIndex((_, i) => known[i] === false);
      if (missing >= 0) {
        const digest = children[missing]!;
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest ${digest.value} (manifests[${missing}]) is not known to repository ${name}`, { digest: digest.value });
      }
    }
    return subject;
  }
}

/** Checks run side by side (each a stat in the thread pool at most), a bounded number at a time; answers in order. */
const CHECKS_IN_FLIGHT = 16;
async function allOf<T>(items: readonly T[], check: (item: T) => Promise<boolean>): Promise<boolean[]> {
  const answers: boolean[] = [];
  for (let start = 0; start < items.length; start += CHECKS_IN_FLIGHT) answers.push(...(await Promise.all(items.slice(start, start + CHECKS_IN_FLIGHT).map(check))));
  return answers;
}

function descriptorOf(value: unknown, where: string): Descriptor {
  const candidate = value as Partial<Descriptor> | null | undefined;
  if (!candidate || typeof candidate !== 'object' || typeof candidate.digest !== 'string' || typeof candidate.size !== 'number') {
    throw new RegistryError('MANIFEST_INVALID', `manifest ${where} must be a descriptor with digest and size`, { field: where });
  }
  return candidate as Descriptor;
}

function descriptorList(value: unknown, where: string): Descriptor[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new RegistryError('MANIFEST_INVALID', `manifest ${where} must be an array`, { field: where });
  return value.map((item, i) => descriptorOf(item, `${where}[${i}]`));
}

function parseDescriptorDigest(descriptor: Descriptor, where: string): Digest {
  const digest = tryParseDigest(descriptor.digest);
  if (!digest) throw new RegistryError('MANIFEST_INVALID', `manifest ${where} has an invalid digest ${JSON.stringify(descriptor.digest)}`, { field: where });
  return digest;
}

export function subjectOf(fields: ManifestFields | undefined): Digest | undefined {
  const subject = fields?.subject as { digest?: unknown } | undefined;
  return typeof subject?.digest === 'string' ? tryParseDigest(subject.digest) : undefined;
}

const unknownManifest = (name: string, reference: string): RegistryError =>
  new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference} is not known to repository ${name}`, { reference });
