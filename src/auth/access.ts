/**
 * Per-repository authorization rules (`auth.access`): who may pull, push or delete which repositories.
 * Nothing is allowed unless a rule (or the anonymous-pull list) says so.
 */
import { repositoryGlobMatcher } from '../registry/repository-globs.js';

export type Action = 'pull' | 'push' | 'delete';
export const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

export interface AccessRule {
  /** repository name globs (src/registry/repository-globs.ts): `*` matches within one path segment, `**` across segments */
  readonly repositories: readonly string[];
  /** user names (htpasswd users, token subjects, client certificate CNs); `*` is any authenticated caller */
  readonly users: readonly string[];
  readonly groups: readonly string[];
  readonly actions: readonly Action[];
}

export interface AccessConfig {
  /** group name to member user names */
  readonly groups: Readonly<Record<string, readonly string[]>>;
  readonly rules: readonly AccessRule[];
  /** repository globs anyone, without credentials, may pull */
  readonly anonymouspull: readonly string[];
}

interface CompiledRule {
  readonly repositories: (repository: string) => boolean;
  readonly users: ReadonlySet<string>;
  readonly groups: readonly string[];
  readonly actions: ReadonlySet<Action>;
}

/** The rules, compiled once: `allowed(user, repository)` answers which actions a caller holds there. */
export class AccessPolicy {
  private readonly rules: readonly CompiledRule[];
  private readonly anonymous: (repository: string) => boolean;
  private readonly membership: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(config: AccessConfig) {
    this.rules = config.rules.map((rule) => ({
      repositories: repositoryGlobMatcher(rule.repositories),
      users: new Set(rule.users),
      groups: rule.groups,
      actions: new Set(rule.actions),
    }));
    this.anonymous = repositoryGlobMatcher(config.anonymouspull);
    const membership = new Map<string, Set<string>>();
    for (const [group, members] of Object.entries(config.groups)) {
      for (const member of members) {
        const groups = membership.get(member) ?? new Set<string>();
        groups.add(group);
        membership.set(member, groups);
      }
    }
    this.membership = membership;
  }

  /** The actions `user` (undefined: an anonymous caller) holds on `repository`. */
  allowed(user: string | undefined, repository: string): Set<Action> {
    const granted = new Set<Action>();
    if (this.anonymous(repository)) granted.add('pull');
    if (user === undefined) return granted;
    const groups = this.membership.get(user) ?? new Set<string>();
    for (const rule of this.rules) {
      if (!rule.repositories(repository)) continue;
      const member = rule.users.has(user) || rule.users.has('*') || rule.groups.some((group) => groups.has(group));
      if (member) for (const action of rule.actions) granted.add(action);
    }
    return granted;
  }
}

/** Without an `auth.access` section every authenticated caller may do everything (distribution's behaviour). */
export const ALLOW_AUTHENTICATED: Pick<AccessPolicy, 'allowed'> = {
  allowed: (user) => new Set(user === undefined ? [] : ACTIONS),
};
