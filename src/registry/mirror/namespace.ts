/**
 * Which upstream a local repository mirrors, and under which name the upstream knows it. Local
 * `prefix/X` is the upstream's `remoteprefix/X` (or `X` without a remoteprefix); the repository named
 * exactly `prefix` is the upstream's `remoteprefix`. The longest matching prefix wins, so a
 * whole-namespace upstream (prefix '') takes whatever no other upstream claims. A repository outside
 * every prefix is local.
 */

/** what the mapping needs of an upstream */
export interface NamespaceMapping {
  readonly prefix: string;
  readonly remoteprefix: string;
}

export interface MirrorRoute<U extends NamespaceMapping> {
  readonly upstream: U;
  /** the repository's name at the upstream; undefined when it names none (the bare prefix, without a remoteprefix) */
  readonly remoteName: string | undefined;
}

const join = (head: string, tail: string): string => (head === '' ? tail : tail === '' ? head : `${head}/${tail}`);

/** the part of `name` under `prefix`, or undefined when `name` is not `prefix` nor under it */
function rest(name: string, prefix: string): string | undefined {
  if (prefix === '') return name;
  if (name === prefix) return '';
  return name.startsWith(`${prefix}/`) ? name.slice(prefix.length + 1) : undefined;
}

export class MirrorNamespace<U extends NamespaceMapping> {
  private readonly byLongestPrefix: readonly U[];

  constructor(upstreams: readonly U[]) {
    this.byLongestPrefix = [...upstreams].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The upstream mirroring local repository `name`, or undefined when `name` is local. */
  routeOf(name: string): MirrorRoute<U> | undefined {
    for (const upstream of this.byLongestPrefix) {
      const tail = rest(name, upstream.prefix);
      if (tail === undefined) continue;
      const remoteName = join(upstream.remoteprefix, tail);
      return { upstream, remoteName: remoteName === '' ? undefined : remoteName };
    }
    return undefined;
  }

  /**
   * The local repository mirroring the upstream's `remoteName` (for sync), or undefined when that name is
   * outside the upstream's remoteprefix, or when a longer prefix of another upstream owns the local name
   * it would have.
   */
  localNameOf(upstream: U, remoteName: string): string | undefined {
    const tail = rest(remoteName, upstream.remoteprefix);
    if (tail === undefined) return undefined;
    const local = join(upstream.prefix, tail);
    if (local === '') return undefined;
    return this.routeOf(local)?.upstream === upstream ? local : undefined;
  }
}
