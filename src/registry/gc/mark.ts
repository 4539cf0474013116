/**
 * The mark phase: which blobs stay, and (with deleteUntagged) which manifests go.
 *
 * Without deleteUntagged it is distribution's mark: every manifest revision of every repository keeps its
 * own blob and everything it references (config, layers, child manifests).
 *
 * With deleteUntagged, distribution 2.8 removes every manifest no tag names, including the children of a
 * tagged index and the referrers (signatures, SBOMs) of a tagged image, which leaves the index unpullable.
 * stowage keeps, per repository, the closure of the tagged manifests: a kept index keeps its children, a
 * kept manifest keeps its referrers (manifests whose `subject` it is), and a manifest whose revision was
 * written after `keepWrittenAfter` is kept as if tagged (an online push may tag it next).
 */
import type { RegistryLogger } from '../logger.js';
import type { RepositoryInventory } from './inventory.js';

export interface ManifestToRemove {
  readonly repository: string;
  readonly digest: string;
  /** every tag of the repository: each may hold the digest in its index history */
  readonly tags: readonly string[];
  readonly subject?: string;
}

export interface RepositoryMarks {
  /** digests of blobs the repository's kept manifests need */
  readonly marked: Set<string>;
  readonly remove: ManifestToRemove[];
}

export function markRepository(
  inventory: RepositoryInventory,
  options: { readonly deleteUntagged: boolean; readonly keepWrittenAfter?: Date },
  logger: RegistryLogger,
): RepositoryMarks {
  const { manifests } = inventory;
  const kept = new Set<string>();
  if (!options.deleteUntagged) {
    for (const digest of manifests.keys()) kept.add(digest);
  } else {
    const referrersOf = new Map<string, string[]>();
    for (const entry of manifests.values()) {
      if (entry.subject) referrersOf.set(entry.subject, [...(referrersOf.get(entry.subject) ?? []), entry.digest]);
    }
    const pending: string[] = [];
    const keep = (digest: string): void => {
      if (!manifests.has(digest) || kept.has(digest)) return;
      kept.add(digest);
      pending.push(digest);
    };
    for (const digest of inventory.tags.values()) keep(digest);
    for (const entry of manifests.values()) {
      const recent = options.keepWrittenAfter !== undefined && (entry.linkedAt === undefined || entry.linkedAt >= options.keepWrittenAfter);
      if (entry.unreadable || recent) keep(entry.digest);
    }
    while (pending.length > 0) {
      const digest = pending.pop()!;
      for (const child of manifests.get(digest)!.children) keep(child);
      for (const referrer of referrersOf.get(digest) ?? []) keep(referrer);
    }
  }

  const marked = new Set<string>();
  const remove: ManifestToRemove[] = [];
  const allTags = [...inventory.tags.keys()].sort();
  for (const entry of manifests.values()) {
    if (!kept.has(entry.digest)) {
      remove.push({ repository: inventory.name, digest: entry.digest, tags: allTags, ...(entry.subject ? { subject: entry.subject } : {}) });
      continue;
    }
    marked.add(entry.digest);
    for (const digest of entry.blobs) marked.add(digest);
    for (const digest of entry.children) marked.add(digest);
  }
  if (remove.length > 0) logger.debug({ repository: inventory.name, count: remove.length }, 'garbage collection: untagged manifests to remove');
  return { marked, remove };
}
