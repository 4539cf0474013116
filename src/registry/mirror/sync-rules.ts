/**
 * Which upstream repositories and tags a scheduled sync copies (`proxy.upstreams[].sync[]`), modeled on zot's
 * sync `content`: repository names or globs (`*` within a path segment, `**` across segments), and tags
 * chosen by globs, a regular expression and/or "semantic versions only". A tag is synced when it matches
 * one of `tags` (every tag when `tags` is absent) and the regex (when set) and is a semver (when `semver`).
 */
import picomatch from 'picomatch';

/** one `sync` entry, as the config holds it */
export interface SyncContentConfig {
  /** upstream repository names (as the upstream spells them); a name with glob characters needs the upstream's `_catalog` */
  readonly repositories: readonly string[];
  /** tag globs (`latest`, `v1.*`); absent: every tag */
  readonly tags?: readonly string[];
  /** a regular expression (JavaScript syntax, unanchored unless written with ^ and $) a tag must match too */
  readonly regex?: string;
  /** only tags that are semantic versions (`1.2.3`, `v1.2.3-rc.1`; `v` allowed, as zot allows it) */
  readonly semver?: boolean;
  /** Go duration between runs (`1h`, `30m`) */
  readonly interval: string;
}

/** SemVer 2.0.0's own expression, with the leading `v` most registries' tags carry */
const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export const isSemver = (tag: string): boolean => SEMVER.test(tag);

export interface CompiledSyncContent {
  /** names without glob characters: synced without asking the upstream's catalog */
  readonly literalRepositories: readonly string[];
  /** whether some name is a glob (the upstream's catalog is then listed) */
  readonly needsCatalog: boolean;
  repositoryMatches(name: string): boolean;
  tagMatches(tag: string): boolean;
}

export class SyncRuleError extends Error {
  readonly code = 'SYNC_RULE_INVALID';
}

export function compileSyncContent(content: SyncContentConfig): CompiledSyncContent {
  const literalRepositories = content.repositories.filter((name) => !picomatch.scan(name).isGlob);
  const globs = content.repositories.filter((name) => picomatch.scan(name).isGlob);
  const globMatches = globs.length > 0 ? picomatch([...globs]) : () => false;
  const tagGlobs = content.tags && content.tags.length > 0 ? picomatch([...content.tags], { dot: true }) : () => true;
  let regex: RegExp | undefined;
  if (content.regex !== undefined) {
    try {
      regex = new RegExp(content.regex);
    } catch (err) {
      throw new SyncRuleError(`not a regular expression: ${JSON.stringify(content.regex)} (${(err as Error).message})`);
    }
  }
  return {
    literalRepositories,
    needsCatalog: globs.length > 0,
    repositoryMatches: (name) => literalRepositories.includes(name) || globMatches(name),
    tagMatches: (tag) => tagGlobs(tag) && (regex === undefined || regex.test(tag)) && (!content.semver || isSemver(tag)),
  };
}
