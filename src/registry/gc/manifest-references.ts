/** What a stored manifest points at, read the way distribution's Manifest.References() reads it. */
import { tryParseDigest } from '../digest.js';
import { parseManifestJson, storedMediaType, subjectOf } from '../manifests.js';
import { isIndexType } from '../media-types.js';

export interface ManifestReferences {
  /** config and every layer of an image manifest (foreign layers too: marking a digest costs nothing) */
  readonly blobs: readonly string[];
  /** the child manifests of an index */
  readonly children: readonly string[];
  /** the manifest this one refers to (OCI `subject`), when it has one */
  readonly subject?: string;
}

const digestsOf = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [])
    .map((entry) => (entry as { digest?: unknown } | null)?.digest)
    .filter((digest): digest is string => typeof digest === 'string' && tryParseDigest(digest) !== undefined);

/** The references of a manifest's bytes, or undefined when they are not a manifest stowage can read. */
export function manifestReferences(content: Uint8Array): ManifestReferences | undefined {
  const fields = parseManifestJson(content);
  if (!fields) return undefined;
  const subject = subjectOf(fields)?.value;
  const extra = subject ? { subject } : {};
  if (isIndexType(storedMediaType(fields)) || Array.isArray(fields.manifests)) {
    return { blobs: [], children: digestsOf(fields.manifests), ...extra };
  }
  return { blobs: [...digestsOf([fields.config]), ...digestsOf(fields.layers)], children: [], ...extra };
}
