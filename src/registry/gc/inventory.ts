/**
 * Reads what a repository holds in distribution's layout: its manifest revisions (with what each one
 * references), its tags and its layer links. The collector's mark and sweep work from these inventories.
 */
import { tryParseDigest, type Digest } from '../digest.js';
import { basename, type StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { manifestReferences, type ManifestReferences } from './manifest-references.js';

export interface ManifestEntry extends ManifestReferences {
  readonly digest: string;
  /** when the revision link was written (storage clock); only read when a run keeps recent writes */
  readonly linkedAt?: Date;
  /** the bytes are no manifest stowage can read: kept, never removed, nothing it names is known */
  readonly unreadable: boolean;
}

export interface RepositoryInventory {
  readonly name: string;
  /** manifest digest -> what it references */
  readonly manifests: Map<string, ManifestEntry>;
  /** tag -> the digest its `current` link names */
  readonly tags: Map<string, string>;
  /** digest -> when its `_layers` link was written (storage clock) */
  readonly layerLinks: Map<string, Date>;
}

/**
 * Repository names: every folder under repositories/ holding a `_manifests` folder (as distribution
 * enumerates them) or a `_layers` one (a repository whose first push is under way has only layers, and an
 * online run must see its links).
 */
export async function listRepositories(storage: RegistryStorage, layout: StorageLayout): Promise<string[]> {
  const root = layout.repositories();
  const names: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const children = await storage.listOrUndefined(dir);
    let isRepository = false;
    for (const child of (children ?? []).sort()) {
      const entry = basename(child);
      if (entry === '_manifests' || entry === '_layers') isRepository = true;
      else if (!entry.startsWith('_')) await visit(child);
    }
    if (isRepository) names.push(dir.slice(root.length + 1));
  };
  await visit(root);
  return names.filter((name) => name !== '').sort();
}

/** `<algorithm>/<hex>` folders under `dir`, as digests (anything else is ignored). */
export async function digestFolders(storage: RegistryStorage, dir: string): Promise<Digest[]> {
  const found: Digest[] = [];
  for (const algorithmPath of (await storage.listOrUndefined(dir)) ?? []) {
    for (const hexPath of (await storage.listOrUndefined(algorithmPath)) ?? []) {
      const digest = tryParseDigest(`${basename(algorithmPath)}:${basename(hexPath)}`);
      if (digest) found.push(digest);
    }
  }
  return found;
}

export async function modTimeOf(storage: RegistryStorage, path: string): Promise<Date | undefined> {
  return (await storage.statIfPresent(path))?.modTime;
}

export async function readRepository(
  storage: RegistryStorage,
  layout: StorageLayout,
  logger: RegistryLogger,
  name: string,
  withTimes: boolean,
): Promise<RepositoryInventory> {
  const manifests = new Map<string, ManifestEntry>();
  for (const digest of await digestFolders(storage, `${layout.manifests(name)}/revisions`)) {
    const linkPath = layout.revisionLink(name, digest);
    // distribution skips a revision whose link names another digest or whose blob is gone
    if ((await storage.readLink(linkPath))?.value !== digest.value) continue;
    const content = await storage.getOrUndefined(layout.blobData(digest));
    if (content === undefined) continue;
    const references = manifestReferences(content);
    if (!references) logger.warn({ repository: name, digest: digest.value }, 'garbage collection: a revision is no readable manifest; it is kept');
    const linkedAt = withTimes ? await modTimeOf(storage, linkPath) : undefined;
    manifests.set(digest.value, {
      digest: digest.value,
      blobs: references?.blobs ?? [],
      children: references?.children ?? [],
      ...(references?.subject ? { subject: references.subject } : {}),
      ...(linkedAt ? { linkedAt } : {}),
      unreadable: references === undefined,
    });
  }

  const tags = new Map<string, string>();
  for (const tagPath of (await storage.listOrUndefined(layout.tags(name))) ?? []) {
    const tag = basename(tagPath);
    const current = await storage.readLink(`${tagPath}/current/link`);
    if (current) tags.set(tag, current.value);
  }

  const layerLinks = new Map<string, Date>();
  for (const digest of await digestFolders(storage, `${layout.repository(name)}/_layers`)) {
    const modTime = await modTimeOf(storage, layout.layerLink(name, digest));
    if (modTime) layerLinks.set(digest.value, modTime);
  }
  return { name, manifests, tags, layerLinks };
}
