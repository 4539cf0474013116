/**
 * `proxy.upstreams[].sync`: the scheduled sync entries of an upstream (src/registry/mirror/sync-rules.ts has
 * their meaning). The schema checks their shape; this checks what it cannot (a regex that does not compile,
 * a duration that is not one) and fills in the default interval.
 */
import { parseDurationMs } from '../registry/duration.js';
import type { SyncContentConfig } from '../registry/mirror/sync-rules.js';
import type { Origins } from './origins.js';
import type { ConfigIssue } from './types.js';

/** how often an entry runs when it names no interval */
export const DEFAULT_SYNC_INTERVAL = '1h';

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);
const strings = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined);

/** one entry as written (validated by the schema) -> what the sync reads */
export function syncContentOf(entry: Readonly<Mapping>): SyncContentConfig {
  const tags = strings(entry.tags);
  return {
    repositories: strings(entry.repositories) ?? [],
    ...(tags !== undefined ? { tags } : {}),
    ...(typeof entry.regex === 'string' ? { regex: entry.regex } : {}),
    ...(entry.semver === true ? { semver: true } : {}),
    interval: typeof entry.interval === 'string' ? entry.interval : DEFAULT_SYNC_INTERVAL,
  };
}

export function checkMirrorSync(document: Mapping, origins: Origins): ConfigIssue[] {
  const proxy = document.proxy;
  if (!isMapping(proxy) || !Array.isArray(proxy.upstreams)) return [];
  const issues: ConfigIssue[] = [];
  proxy.upstreams.forEach((upstream, u) => {
    if (!isMapping(upstream) || !Array.isArray(upstream.sync)) return;
    upstream.sync.forEach((entry, e) => {
      if (!isMapping(entry)) return;
      const at = (key: string): ConfigIssue => ({ ...origins.locate(['proxy', 'upstreams', u, 'sync', e, key]), message: '' });
      if (typeof entry.regex === 'string') {
        try {
          new RegExp(entry.regex);
        } catch (err) {
          issues.push({ ...at('regex'), message: `expected a regular expression, got ${JSON.stringify(entry.regex)}: ${(err as Error).message}` });
        }
      }
      // a text that is no duration at all is the schema's to report; a duration too short to be meant is ours
      const ms = typeof entry.interval === 'string' ? durationMs(entry.interval) : undefined;
      if (ms !== undefined && ms < 1000) issues.push({ ...at('interval'), message: `expected a duration of at least 1s such as 1h or 30m, got ${JSON.stringify(entry.interval)}` });
    });
  });
  return issues;
}

function durationMs(text: string): number | undefined {
  try {
    return parseDurationMs(text);
  } catch {
    return undefined;
  }
}
