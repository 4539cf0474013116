/**
 * The `proxy` section: pull-through mirroring (src/registry/mirror). distribution's keys (`remoteurl`,
 * `username`, `password`, `ttl`) configure one upstream mirroring the whole namespace; stowage's
 * `upstreams` add several, each mapped to a local namespace prefix. Both normalise to one list of
 * upstreams, the whole-namespace one (prefix '') last.
 */
import type { SyncContentConfig } from '../registry/mirror/sync-rules.js';
import { syncContentOf } from './mirror-sync.js';
import type { Origins } from './origins.js';
import type { ConfigIssue } from './types.js';

export interface UpstreamConfig {
  /** how logs, metrics and errors name it (`proxy` for distribution's remoteurl) */
  readonly name: string;
  /** the upstream registry's base URL, without a trailing slash (`https://registry-1.docker.io`) */
  readonly remoteurl: string;
  readonly username?: string;
  /** never logged: serve adds it to the redactor */
  readonly password?: string;
  /** Go duration: how long a tag fetched from the upstream is served without asking the upstream again */
  readonly ttl: string;
  /** local repositories `prefix/X` mirror the upstream's; '' mirrors the whole namespace */
  readonly prefix: string;
  /** the upstream's repositories sit under this prefix ('' : at its root), e.g. `library` */
  readonly remoteprefix: string;
  /** scheduled sync entries (src/registry/mirror/sync-rules.ts), the default interval filled in */
  readonly sync: readonly SyncContentConfig[];
  /** where the upstream was written, for messages (`proxy` or `proxy.upstreams[0]`) */
  readonly path: string;
}

export interface MirrorConfig {
  readonly upstreams: readonly UpstreamConfig[];
}

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** distribution's default: a week */
export const DEFAULT_MIRROR_TTL = '168h';
/** the upstream distribution's own keys configure */
export const PROXY_UPSTREAM_NAME = 'proxy';

/**
 * Problems the schema cannot see: two upstreams with one name or one prefix, an upstream list without
 * any upstream, credentials without a URL.
 */
export function checkMirror(document: Mapping, origins: Origins): ConfigIssue[] {
  const proxy = document.proxy;
  if (!isMapping(proxy)) return [];
  const issues: ConfigIssue[] = [];
  const upstreams = Array.isArray(proxy.upstreams) ? proxy.upstreams.filter(isMapping) : [];
  if (text(proxy.remoteurl) === undefined && upstreams.length === 0) {
    issues.push({ ...origins.locate(['proxy']), message: 'pull-through mirroring needs remoteurl (one upstream for the whole namespace) or upstreams (each with name, remoteurl and prefix)' });
  }
  if (text(proxy.remoteurl) === undefined && (proxy.username != null || proxy.password != null)) {
    issues.push({ ...origins.locate(['proxy', 'username']), message: 'username and password are the credentials of proxy.remoteurl, which is not set' });
  }
  const names = new Map<string, number>();
  const prefixes = new Map<string, number>();
  if (text(proxy.remoteurl) !== undefined) names.set(PROXY_UPSTREAM_NAME, -1);
  upstreams.forEach((upstream, index) => {
    const name = upstream.name;
    if (typeof name === 'string') {
      const before = names.get(name);
      if (before !== undefined) {
        const other = before < 0 ? 'proxy.remoteurl (named proxy)' : `proxy.upstreams[${before}]`;
        issues.push({ ...origins.locate(['proxy', 'upstreams', index, 'name']), message: `the name ${JSON.stringify(name)} is taken by ${other}; each upstream needs its own` });
      } else names.set(name, index);
    }
    const prefix = upstream.prefix;
    if (typeof prefix === 'string') {
      const before = prefixes.get(prefix);
      if (before !== undefined) {
        issues.push({ ...origins.locate(['proxy', 'upstreams', index, 'prefix']), message: `the prefix ${JSON.stringify(prefix)} is already mirrored from proxy.upstreams[${before}]; a local namespace mirrors one upstream` });
      } else prefixes.set(prefix, index);
    }
  });
  return issues;
}

/** `{ mirror }` when the proxy section configures an upstream (checkMirror has refused anything else) */
export function mirrorOf(document: Mapping): { mirror: MirrorConfig } | undefined {
  const proxy = document.proxy;
  if (!isMapping(proxy)) return undefined;
  const defaultTtl = text(proxy.ttl) ?? DEFAULT_MIRROR_TTL;
  const listed = (Array.isArray(proxy.upstreams) ? proxy.upstreams : []).filter(isMapping).map((upstream, index): UpstreamConfig => {
    const sync = Array.isArray(upstream.sync) ? upstream.sync.filter(isMapping).map(syncContentOf) : [];
    return {
      name: upstream.name as string,
      ...credentials(upstream),
      remoteurl: (upstream.remoteurl as string).replace(/\/+$/, ''),
      ttl: text(upstream.ttl) ?? defaultTtl,
      prefix: upstream.prefix as string,
      remoteprefix: text(upstream.remoteprefix) ?? '',
      sync,
      path: `proxy.upstreams[${index}]`,
    };
  });
  const remoteurl = text(proxy.remoteurl);
  const whole: UpstreamConfig[] = remoteurl
    ? [{ name: PROXY_UPSTREAM_NAME, ...credentials(proxy), remoteurl: remoteurl.replace(/\/+$/, ''), ttl: defaultTtl, prefix: '', remoteprefix: '', sync: [], path: 'proxy' }]
    : [];
  if (listed.length === 0 && whole.length === 0) return undefined;
  return { mirror: { upstreams: [...listed, ...whole] } };
}

function credentials(section: Mapping): { username?: string; password?: string } {
  const username = text(section.username);
  const password = typeof section.password === 'string' ? section.password : undefined;
  return { ...(username !== undefined ? { username } : {}), ...(password !== undefined && password !== '' ? { password } : {}) };
}

/** the upstream passwords, for the log redactor */
export function mirrorPasswords(config: { readonly mirror?: MirrorConfig }): string[] {
  return (config.mirror?.upstreams ?? []).flatMap((upstream) => (upstream.password ? [upstream.password] : []));
}
