/**
 * Retention policies per repository glob (storage.maintenance.retention): which tags and untagged manifests
 * to delete, from push times (when the tag's `current` link and the manifest's revision link were written)
 * and pull times (pulls.ts). Deleting works as the API's deletes do; the blobs are freed by the next garbage
 * collection.
 *
 * In a repository the first matching policy applies. A tag is kept when it matches `keeptags`, is among the
 * `keeplastpushed` most recently pushed, or was pulled within `keeppulledwithin`; with none of the three
 * set, every tag is kept. With `deleteuntaggedolderthan`, an untagged manifest pushed longer ago than that is
 * deleted unless it was pulled within `keeppulledwithin`, or is a child of a kept index or a referrer of a
 * kept manifest.
 */
import { parseDurationMs } from '../duration.js';
import type { StorageLayout } from '../layout.js';
import type { RegistryLogger } from '../logger.js';
import type { RegistryStorage } from '../storage.js';
import { removeTag } from '../tags.js';
import type { GcClock } from './clock.js';
import { listRepositories, modTimeOf, readRepository } from './inventory.js';
import type { PullRecorder } from './pulls.js';
import { removeManifest } from './sweep.js';
import { repositoryGlobMatcher } from '../repository-globs.js';

/** One policy, as storage.maintenance.retention.policies holds it. */
export interface RetentionPolicy {
  /** globs over repository names (`*` stays within a path component, `**` crosses them) */
  readonly repositories: readonly string[];
  readonly keeplastpushed?: number;
  /** regular expressions a tag must match in full to be kept */
  readonly keeptags?: readonly string[];
  readonly keeppulledwithin?: string;
  readonly deleteuntaggedolderthan?: string;
}

export interface RetentionReport {
  readonly dryRun: boolean;
  readonly tagsDeleted: readonly { readonly repository: string; readonly tag: string; readonly digest: string }[];
  readonly manifestsDeleted: readonly { readonly repository: string; readonly digest: string }[];
}

interface CompiledPolicy {
  readonly matches: (repository: string) => boolean;
  readonly keepLast?: number;
  readonly keepTags: readonly RegExp[];
  readonly pulledWithinMs?: number;
  readonly untaggedOlderThanMs?: number;
}

export function compilePolicies(policies: readonly RetentionPolicy[]): CompiledPolicy[] {
  return policies.map((policy, index) => ({
    matches: repositoryGlobMatcher(policy.repositories),
    ...(policy.keeplastpushed !== undefined ? { keepLast: policy.keeplastpushed } : {}),
    keepTags: (policy.keeptags ?? []).map((pattern) => {
      try {
        return new RegExp(`^(?:${pattern})$`);
      } catch (err) {
        throw new Error(`storage.maintenance.retention.policies[${index}].keeptags: ${JSON.stringify(pattern)} is not a regular expression (${(err as Error).message})`);
      }
    }),
    ...(policy.keeppulledwithin !== undefined ? { pulledWithinMs: parseDurationMs(policy.keeppulledwithin) } : {}),
    ...(policy.deleteuntaggedolderthan !== undefined ? { untaggedOlderThanMs: parseDurationMs(policy.deleteuntaggedolderthan) } : {}),
  }));
}

export async function applyRetention(
  storage: RegistryStorage,
  layout: StorageLayout,
  logger: RegistryLogger,
  pulls: PullRecorder,
  policies: readonly RetentionPolicy[],
  options: { readonly dryRun: boolean; readonly clock: GcClock; readonly keepAlive?: () => Promise<void> },
): Promise<RetentionReport> {
  const compiled = compilePolicies(policies);
  const now = options.clock.now().getTime();
  const tagsDeleted: { repository: string; tag: string; digest: string }[] = [];
  const manifestsDeleted: { repository: string; digest: string }[] = [];

  for (const repository of await listRepositories(storage, layout)) {
    const policy = compiled.find((candidate) => candidate.matches(repository));
    if (!policy) continue;
    await options.keepAlive?.();
    const inventory = await readRepository(storage, layout, logger, repository, true);
    const pulledRecently = async (digest: string): Promise<boolean> => {
      if (policy.pulledWithinMs === undefined) return false;
      const pulled = await pulls.lastPulled(repository, digest);
      return pulled !== undefined && now - pulled.getTime() <= policy.pulledWithinMs;
    };

    // tags
    const tagRules = policy.keepLast !== undefined || policy.keepTags.length > 0 || policy.pulledWithinMs !== undefined;
    const keptTags = new Set<string>();
    const pushedAt = new Map<string, number>();
    for (const tag of inventory.tags.keys()) pushedAt.set(tag, (await modTimeOf(storage, layout.tagCurrentLink(repository, tag)))?.getTime() ?? now);
    const byRecency = [...inventory.tags.keys()].sort((a, b) => pushedAt.get(b)! - pushedAt.get(a)! || (a < b ? -1 : 1));
    for (const [rank, tag] of byRecency.entries()) {
      const digest = inventory.tags.get(tag)!;
      const keep =
        !tagRules ||
        (policy.keepLast !== undefined && rank < policy.keepLast) ||
        policy.keepTags.some((pattern) => pattern.test(tag)) ||
        (await pulledRecently(digest));
      if (keep) keptTags.add(tag);
      else tagsDeleted.push({ repository, tag, digest });
    }

    // untagged manifests: what stays tagged, recent, recently pulled, and their children and referrers stay
    if (policy.untaggedOlderThanMs !== undefined) {
      const kept = new Set<string>();
      const pending: string[] = [];
      const keep = (digest: string): void => {
        if (!inventory.manifests.has(digest) || kept.has(digest)) return;
        kept.add(digest);
        pending.push(digest);
      };
      for (const tag of keptTags) keep(inventory.tags.get(tag)!);
      for (const entry of inventory.manifests.values()) {
        const age = now - (entry.linkedAt?.getTime() ?? now);
        if (entry.unreadable || age < policy.untaggedOlderThanMs || (await pulledRecently(entry.digest))) keep(entry.digest);
      }
      const referrersOf = new Map<string, string[]>();
      for (const entry of inventory.manifests.values()) {
        if (entry.subject) referrersOf.set(entry.subject, [...(referrersOf.get(entry.subject) ?? []), entry.digest]);
      }
      while (pending.length > 0) {
        const digest = pending.pop()!;
        for (const child of inventory.manifests.get(digest)!.children) keep(child);
        for (const referrer of referrersOf.get(digest) ?? []) keep(referrer);
      }
      for (const entry of inventory.manifests.values()) if (!kept.has(entry.digest)) manifestsDeleted.push({ repository, digest: entry.digest });
    }

    if (!options.dryRun) {
      for (const { tag } of tagsDeleted.filter((t) => t.repository === repository)) await removeTag(storage, layout, repository, tag);
      const allTags = [...inventory.tags.keys()];
      for (const { digest } of manifestsDeleted.filter((m) => m.repository === repository)) {
        const subject = inventory.manifests.get(digest)?.subject;
        await removeManifest(storage, layout, { repository, digest, tags: allTags, ...(subject ? { subject } : {}) });
        // a tag the policy deleted may still have named it: nothing must point at a removed revision
        for (const [tag, current] of inventory.tags) if (current === digest) await removeTag(storage, layout, repository, tag);
      }
    }
  }
  logger.info({ dryRun: options.dryRun, tags: tagsDeleted.length, manifests: manifestsDeleted.length }, 'retention policies applied');
  return { dryRun: options.dryRun, tagsDeleted, manifestsDeleted };
}
