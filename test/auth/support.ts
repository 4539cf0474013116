/** A registry in this process with an `auth` section, its htpasswd users, and a client that can send credentials. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { request } from 'undici';
import type { AuthConfig, TlsConfig } from '../../src/config/types.js';
import { startRegistry } from '../../src/embed.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { inMemoryDriver, pushImage as pushImageWith } from '../http/support/registry.js';

export const USERS: Readonly<Record<string, string>> = { alice: 'alice-secret-1', bob: 'bob-secret-22', carol: 'carol-secret-333' };

export interface AuthResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

export interface AuthRegistry {
  readonly url: string;
  readonly dir: string;
  send(method: string, path: string, options?: { body?: Uint8Array | string; headers?: Record<string, string> }): Promise<AuthResponse>;
  close(): Promise<void>;
}

export const basic = (user: string, password = USERS[user] ?? ''): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** `htpasswd -B` lines for USERS (cost 4: the tests check the format, not the cost) */
export function htpasswdText(): string {
  return Object.entries(USERS)
    .map(([user, password]) => `${user}:${bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$')}`)
    .join('\n');
}

/**
 * `auth(dir)` builds the section once the temp dir exists (for files such as the htpasswd at `${dir}/htpasswd`).
 */
export async function startAuthRegistry(
  auth: (dir: string) => AuthConfig | Promise<AuthConfig>,
  options: { tls?: (dir: string) => TlsConfig | Promise<TlsConfig>; driver?: StorageDriver } = {},
): Promise<AuthRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-auth-'));
  await writeFile(path.join(dir, 'htpasswd'), htpasswdText());
  const authConfig = await auth(dir);
  const tls = options.tls ? await options.tls(dir) : undefined;
  const running = await startRegistry({
    driver: options.driver ?? inMemoryDriver(),
    deleteEnabled: true,
    auth: authConfig,
    ...(tls ? { http: { tls } } : {}),
  });
  return {
    url: running.url,
    dir,
    async send(method, target, { body, headers } = {}) {
      const response = await request(target.startsWith('http') ? target : `${running.url}${target}`, { method: method as 'GET', body, headers: headers ?? {} });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const flat: Record<string, string> = {};
      for (const [key, value] of Object.entries(response.headers)) flat[key] = Array.isArray(value) ? value.join(', ') : String(value);
      return { status: response.statusCode, headers: flat, body: bytes, json: <T,>() => JSON.parse(bytes.toString('utf8')) as T };
    },
    async close() {
      await running.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { sha256 } from '../http/support/registry.js';

/** Pushes a one-layer image to `name:tag`, every request carrying `headers` (credentials); its layer's and manifest's digests. */
export async function pushImage(registry: AuthRegistry, name: string, tag: string, headers: Record<string, string>): Promise<{ layer: string; manifest: string }> {
  const pushed = await pushImageWith(registry, name, tag, {}, `layer of ${name}`, headers);
  return { layer: pushed.layer, manifest: pushed.digest };
}

/**
 * A registry with htpasswd and two teams: alice may pull and push `team-a/**`, carol `team-b/**`, bob nothing;
 * each team has `app:v1` pushed. For checking that a listing shows each caller only what they may pull.
 */
export async function startTwoTeamRegistry(realm: string): Promise<AuthRegistry> {
  const registry = await startAuthRegistry((dir) => ({
    htpasswd: { realm, path: `${dir}/htpasswd` },
    access: {
      groups: {},
      anonymouspull: [],
      rules: [
        { repositories: ['team-a/**'], users: ['alice'], groups: [], actions: ['pull', 'push'] },
        { repositories: ['team-b/**'], users: ['carol'], groups: [], actions: ['pull', 'push'] },
      ],
    },
  }));
  await pushImage(registry, 'team-a/app', 'v1', basic('alice'));
  await pushImage(registry, 'team-b/app', 'v1', basic('carol'));
  return registry;
}
