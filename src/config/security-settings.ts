/**
 * The security settings of distribution's config.yml, and whether stowage honours each.
 *
 * A setting that protects something (authentication, TLS, a deny list) and is ignored leaves the registry
 * open while its operator believes it closed, so `serve` refuses to start on one that is not implemented,
 * naming the key; every other ignored setting is only a warning. When a feature lands, its entry here flips
 * to `implemented: true` and nothing else in this file changes.
 */
import { ConfigError } from './errors.js';
import type { Origins } from './origins.js';
import type { ConfigIssue, StowageConfig } from './types.js';

export interface SecuritySetting {
  /** dotted path in config.yml */
  readonly key: string;
  readonly implemented: boolean;
  /** what an operator loses when it is not honoured */
  readonly protects: string;
}

export const SECURITY_SETTINGS: readonly SecuritySetting[] = [
  { key: 'auth.htpasswd', implemented: true, protects: 'htpasswd authentication' },
  { key: 'auth.token', implemented: true, protects: 'token authentication' },
  { key: 'auth.tokenserver', implemented: true, protects: 'the built-in token issuer' },
  { key: 'auth.access', implemented: true, protects: 'per-repository authorization rules' },
  { key: 'auth.automount', implemented: true, protects: 'the automatic cross-repository mount policy' },
  { key: 'auth.silly', implemented: false, protects: "distribution's development-only authentication" },
  { key: 'http.tls.certificate', implemented: true, protects: 'TLS' },
  { key: 'http.tls.key', implemented: true, protects: 'TLS' },
  { key: 'http.tls.clientcas', implemented: true, protects: 'client certificate verification (mutual TLS)' },
  { key: 'http.tls.minimumtls', implemented: true, protects: 'a minimum TLS version' },
  { key: 'http.tls.ciphersuites', implemented: false, protects: 'a restricted set of TLS cipher suites' },
  { key: 'http.tls.letsencrypt', implemented: false, protects: "TLS with Let's Encrypt certificates" },
  { key: 'validation.manifests.urls', implemented: false, protects: 'allow and deny lists for the URLs of foreign layers' },
];

/** Sections whose every sub-key is a security setting: one stowage does not know (`auth.ldap`) is refused too. */
const SECURITY_SECTIONS: readonly string[] = ['auth', 'http.tls'];

type Mapping = Record<string, unknown>;
const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);

function valueAt(document: Mapping, key: string): unknown {
  let node: unknown = document;
  for (const segment of key.split('.')) node = isMapping(node) ? node[segment] : undefined;
  return node;
}

/** Each security setting present in `document` that stowage does not implement, as an issue naming its key. */
export function unhonouredSecuritySettings(document: Mapping, origins: Origins): ConfigIssue[] {
  const byKey = new Map(SECURITY_SETTINGS.map((setting) => [setting.key, setting]));
  const present = new Set<string>();
  for (const setting of SECURITY_SETTINGS) if (valueAt(document, setting.key) != null) present.add(setting.key);
  for (const section of SECURITY_SECTIONS) {
    const value = valueAt(document, section);
    if (isMapping(value)) for (const key of Object.keys(value)) if (value[key] != null) present.add(`${section}.${key}`);
  }
  const issues: ConfigIssue[] = [];
  for (const key of present) {
    const setting = byKey.get(key);
    if (setting?.implemented) continue;
    const what = setting ? `stowage does not implement ${setting.protects}` : `stowage does not know this ${key.slice(0, key.lastIndexOf('.'))} setting`;
    issues.push({
      ...origins.locate(key.split('.')),
      message: `${what}, and will not run without a setting it cannot honour; remove it and put a reverse proxy that provides it in front`,
    });
  }
  return issues;
}

/** Throws a ConfigError naming every unhonoured security setting of `config` (what `serve` and `config check` do). */
export function refuseUnhonouredSettings(config: StowageConfig): void {
  if (config.refusals && config.refusals.length > 0) throw new ConfigError(config.refusals);
}
