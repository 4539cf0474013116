import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHtpasswd } from '../../src/auth/htpasswd.js';
import { basic, htpasswdText, pushImage, sha256, startAuthRegistry, USERS, type AuthRegistry } from './support.js';

const DIGEST = sha256('anything');

/**
 * Every endpoint of the distribution spec (end-1 .. end-13, plus the catalog and upload cancel), written
 * out from the spec rather than read from the router, with the scope a client must ask for.
 */
export const SPEC_ENDPOINTS: readonly { id: string; method: string; path: string; scope?: string }[] = [
  { id: 'end-1', method: 'GET', path: '/v2/' },
  { id: 'end-2 GET', method: 'GET', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-2 HEAD', method: 'HEAD', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-3 GET', method: 'GET', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull' },
  { id: 'end-3 HEAD', method: 'HEAD', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull' },
  { id: 'end-4a', method: 'POST', path: '/v2/team-a/app/blobs/uploads/', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-4b', method: 'POST', path: `/v2/team-a/app/blobs/uploads/?digest=${DIGEST}`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-5', method: 'PATCH', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-6', method: 'PUT', path: `/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666?digest=${DIGEST}`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-7', method: 'PUT', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:pull,push' },
  { id: 'end-8a', method: 'GET', path: '/v2/team-a/app/tags/list', scope: 'repository:team-a/app:pull' },
  { id: 'end-8b', method: 'GET', path: '/v2/team-a/app/tags/list?n=1&last=a', scope: 'repository:team-a/app:pull' },
  { id: 'end-9', method: 'DELETE', path: '/v2/team-a/app/manifests/v1', scope: 'repository:team-a/app:delete' },
  { id: 'end-10', method: 'DELETE', path: `/v2/team-a/app/blobs/${DIGEST}`, scope: 'repository:team-a/app:delete' },
  { id: 'end-11', method: 'POST', path: `/v2/team-a/app/blobs/uploads/?mount=${DIGEST}&from=team-b/app`, scope: 'repository:team-a/app:pull,push' },
  { id: 'end-12a', method: 'GET', path: `/v2/team-a/app/referrers/${DIGEST}`, scope: 'repository:team-a/app:pull' },
  { id: 'end-12b', method: 'GET', path: `/v2/team-a/app/referrers/${DIGEST}?artifactType=x%2Fy`, scope: 'repository:team-a/app:pull' },
  { id: 'end-13', method: 'GET', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'upload cancel', method: 'DELETE', path: '/v2/team-a/app/blobs/uploads/0b5e4c3a-1111-4222-8333-444455556666', scope: 'repository:team-a/app:pull,push' },
  { id: 'catalog', method: 'GET', path: '/v2/_catalog', scope: 'registry:catalog:*' },
];

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
