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
