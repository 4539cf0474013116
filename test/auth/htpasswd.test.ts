import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHtpasswd } from '../../src/auth/htpasswd.js';
import { SPEC_ENDPOINTS } from './endpoints.js';
import { basic, htpasswdText, pushImage, startAuthRegistry, USERS, type AuthRegistry } from './support.js';

describe('htpasswd users', () => {
  it('reads bcrypt entries ($2y$ as htpasswd -B writes them) and refuses any other hash kind, naming the line', () => {
    expect([...parseHtpasswd(htpasswdText(), 'h').keys()]).toEqual(Object.keys(USERS));
    expect(() => parseHtpasswd('# users\nalice:$apr1$abc$def\n', '/etc/htpasswd')).toThrow('/etc/htpasswd line 2');
    expect(() => parseHtpasswd('bob:plain\n', 'h')).toThrow(/htpasswd -B/);
  });
});

describe('htpasswd authentication without access rules (distribution: any valid user may do anything)', () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => ({ htpasswd: { realm: 'stowage-test', path: `${dir}/htpasswd` } }));
  });
  afterAll(async () => registry?.close());

  for (const endpoint of SPEC_ENDPOINTS) {
    it(`${endpoint.id} (${endpoint.method} ${endpoint.path}) without credentials is 401 UNAUTHORIZED with a Basic challenge`, async () => {
      const response = await registry.send(endpoint.method, endpoint.path);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="stowage-test"');
      if (endpoint.method !== 'HEAD') expect(response.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe('UNAUTHORIZED');
    });
  }

  it('a wrong password, an unknown user and a malformed header are each 401, and nothing is stored', async () => {
    for (const headers of [basic('alice', 'wrong'), basic('mallory', 'x'), { authorization: 'Basic %%%' }, { authorization: 'Basic ' + Buffer.from('nocolon').toString('base64') }]) {
      const response = await registry.send('PUT', '/v2/team-a/app/manifests/v1', { headers, body: '{}' });
      expect(response.status).toBe(401);
      expect(response.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe('UNAUTHORIZED');
    }
    expect((await registry.send('GET', '/v2/_catalog', { headers: basic('alice') })).json()).toEqual({ repositories: [] });
  });

  it('a valid user passes /v2/ and may push and pull', async () => {
    expect((await registry.send('GET', '/v2/', { headers: basic('alice') })).status).toBe(200);
    await pushImage(registry, 'team-a/app', 'v1', basic('alice'));
    expect((await registry.send('GET', '/v2/team-a/app/manifests/v1', { headers: basic('bob') })).status).toBe(200);
  });
});

describe('an htpasswd file edited while the registry serves', () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => ({ htpasswd: { realm: 'stowage-test', path: `${dir}/htpasswd` } }));
  });
  afterAll(async () => registry?.close());

  /** Asks /v2/ with `headers` until it answers `status` (the file is looked at again about once a second). */
  async function untilStatus(headers: Record<string, string>, status: number): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const answered = (await registry.send('GET', '/v2/', { headers })).status;
      if (answered === status) return;
      if (Date.now() > deadline) throw new Error(`/v2/ still answers ${answered}, not ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('lets a user added to the file log in, and refuses one removed from it, without a restart', async () => {
    const file = path.join(registry.dir, 'htpasswd');
    const dave = { authorization: `Basic ${Buffer.from('dave:dave-secret-4444').toString('base64')}` };
    expect((await registry.send('GET', '/v2/', { headers: dave })).status).toBe(401);
    expect((await registry.send('GET', '/v2/', { headers: basic('alice') })).status).toBe(200);

    // an editor's save: the whole file written beside and renamed over, with dave in and alice out
    const lines = htpasswdText().split('\n').filter((line) => !line.startsWith('alice:'));
    lines.push(`dave:${bcrypt.hashSync('dave-secret-4444', 4)}`);
    await writeFile(`${file}.new`, `${lines.join('\n')}\n`);
    await rename(`${file}.new`, file);

    await untilStatus(dave, 200);
    // alice's check was remembered before the edit; the reload forgets it
    expect((await registry.send('GET', '/v2/', { headers: basic('alice') })).status).toBe(401);
    expect((await registry.send('GET', '/v2/', { headers: basic('bob') })).status).toBe(200);

  });
});
