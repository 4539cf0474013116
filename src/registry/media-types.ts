/** Manifest media types stowage accepts, and how a stored manifest's type is recognised. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export type ManifestKind = 'image' | 'index';

const KINDS: Readonly<Record<string, ManifestKind>> = {
  [OCI_MANIFEST]: 'image',
  [DOCKER_MANIFEST]: 'image',
  [OCI_INDEX]: 'index',
  [DOCKER_MANIFEST_LIST]: 'index',
};

export const manifestKind = (mediaType: string): ManifestKind | undefined => KINDS[mediaType];
export const isIndexType = (mediaType: string): boolean => KINDS[mediaType] === 'index';
export const SUPPORTED_MANIFEST_TYPES: readonly string[] = Object.keys(KINDS);

/** `type/subtype` without parameters, lowercased */
export const bareMediaType = (value: string | undefined): string | undefined => {
  const bare = value?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
};
