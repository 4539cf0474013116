/**
 * The sweep phase: removes the manifests the mark gave up (tag history entries, revision, referrer link),
 * then every blob no kept manifest references, with the `_layers` links that pointed at it.
 *
 * distribution 2.8 leaves `_layers` links to a swept blob behind; stowage removes them (distribution 3 does
 * too): a stale link would make a later upload of the same bytes by anyone visible in that repository.
 */
import { isPathNotFound } from '../../storage/errors.js';
import { tryParseDigest, type Digest } from '../digest.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryStorage } from '../storage.js';
import type { ManifestToRemove } from './mark.js';

export interface StoredBlob {
  readonly digest: Digest;
  readonly size: number;
  readonly modTime: Date;
}

/** Every blob under blobs/ (`<algorithm>/<2 hex>/<hex>/data`), as distribution's blob enumerator finds them. */
export async function listBlobs(storage: RegistryStorage, layout: StorageLayout): Promise<StoredBlob[]> {
  const root = `${layout.root}/blobs`;
  const blobs: StoredBlob[] = [];
  const walk = storage.driver.walk;
  if (!walk) throw new Error('the storage driver offers no walk (it must be wrapped by src/storage/base.ts)');
  try {
    await walk.call(storage.driver, root, (info) => {
      if (info.isDir || !info.path.endsWith('/data')) return;
      const [algorithm, prefix, hex, file] = info.path.slice(root.length + 1).split('/');
      const digest = tryParseDigest(`${algorithm}:${hex}`);
      if (!digest || file !== 'data' || prefix !== digest.hex.slice(0, 2)) return;
      blobs.push({ digest, size: info.size, modTime: info.modTime });
    });
  } catch (err) {
    if (isPathNotFound(err)) return [];
    throw err;
  }
  return blobs;
}

/** Removes a manifest from its repository the way distribution's vacuum does, plus stowage's referrer link. */
export async function removeManifest(storage: RegistryStorage, layout: StorageLayout, manifest: ManifestToRemove): Promise<void> {
  const digest = tryParseDigest(manifest.digest)!;
  for (const tag of manifest.tags) {
    await storage.deleteIfPresent(layout.tagIndexLink(manifest.repository, tag, digest).replace(/\/link$/, ''));
  }
  await storage.deleteIfPresent(layout.revisionLink(manifest.repository, digest).replace(/\/link$/, ''));
  const subject = manifest.subject ? tryParseDigest(manifest.subject) : undefined;
  if (subject) await storage.deleteIfPresent(layout.referrerLink(manifest.repository, subject, digest).replace(/\/link$/, ''));
}

export async function removeBlob(storage: RegistryStorage, layout: StorageLayout, digest: Digest): Promise<void> {
  await storage.deleteIfPresent(layout.blobDir(digest));
}

export async function removeLayerLink(storage: RegistryStorage, layout: StorageLayout, repository: string, digest: Digest): Promise<void> {
  await storage.deleteIfPresent(layout.layerLink(repository, digest).replace(/\/link$/, ''));
}
