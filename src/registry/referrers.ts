/**
 * The referrers of a manifest, from the index kept under `_manifests/referrers/<alg>/<hex>/` (written
 * when a manifest with a `subject` is pushed), plus any referrers tag-schema index (`<alg>-<hex>` tag)
 * clients kept before the registry answered the API.
 */
import { tryParseDigest, type Digest } from './digest.js';
import { basename, type StorageLayout } from './layout.js';
import { parseManifestJson, storedMediaType, type Descriptor, type ManifestFields, type ManifestStore } from './manifests.js';
import { OCI_INDEX, manifestKind } from './media-types.js';
import { lexical } from './pagination.js';
import type { RegistryStorage } from './storage.js';

export interface ReferrersIndex {
  readonly schemaVersion: 2;
  readonly mediaType: typeof OCI_INDEX;
  readonly manifests: Descriptor[];
}

export class ReferrersStore {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly layout: StorageLayout,
    private readonly manifests: ManifestStore,
  ) {}

  async list(name: string, subject: Digest, artifactType?: string): Promise<ReferrersIndex> {
    const found = new Map<string, Descriptor>();
    for (const algorithmPath of (await this.storage.listOrUndefined(this.layout.referrers(name, subject))) ?? []) {
      for (const hexPath of (await this.storage.listOrUndefined(algorithmPath)) ?? []) {
        const digest = tryParseDigest(`${basename(algorithmPath)}:${basename(hexPath)}`);
        if (!digest || found.has(digest.value)) continue;
        const descriptor = await this.describe(name, digest);
        if (descriptor) found.set(digest.value, descriptor);
      }
    }
    for (const descriptor of await this.fromTagSchema(name, subject)) {
      if (!found.has(descriptor.digest)) found.set(descriptor.digest, descriptor);
    }
    const manifests = [...found.values()]
      .filter((descriptor) => artifactType === undefined || descriptor.artifactType === artifactType)
      .sort((a, b) => lexical(a.digest, b.digest));
    return { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
  }

  /** A referrer's descriptor, or undefined when the manifest has since been deleted. */
  private async describe(name: string, digest: Digest): Promise<Descriptor | undefined> {
    if (!(await this.manifests.hasRevision(name, digest))) return undefined;
    const content = await this.manifests.readContent(digest);
    if (!content) return undefined;
    const fields = parseManifestJson(content);
    const mediaType = storedMediaType(fields);
    const artifactType = artifactTypeOf(fields, mediaType);
    const annotations = isStringRecord(fields?.annotations) ? fields.annotations : undefined;
    return {
      mediaType,
      digest: digest.value,
      size: content.length,
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    };
  }

  private async fromTagSchema(name: string, subject: Digest): Promise<Descriptor[]> {
    const tagDigest = await this.storage.readLink(this.layout.tagCurrentLink(name, `${subject.algorithm}-${subject.hex}`));
    if (!tagDigest) return [];
    const content = await this.manifests.readContent(tagDigest);
    const fields = content ? parseManifestJson(content) : undefined;
    if (!Array.isArray(fields?.manifests)) return [];
    return (fields.manifests as unknown[]).filter(
      (entry): entry is Descriptor => typeof (entry as Descriptor | null)?.digest === 'string' && typeof (entry as Descriptor).size === 'number',
    );
  }
}

function artifactTypeOf(fields: ManifestFields | undefined, mediaType: string): string | undefined {
  if (typeof fields?.artifactType === 'string') return fields.artifactType;
  if (manifestKind(mediaType) === 'image') {
    const configType = (fields?.config as { mediaType?: unknown } | undefined)?.mediaType;
    if (typeof configType === 'string') return configType;
  }
  return undefined;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}
