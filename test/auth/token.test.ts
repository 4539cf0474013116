import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libtrustKeyId } from '../../src/auth/token.js';
import type { AuthConfig } from '../../src/config/types.js';
import { createTestCa } from '../support/tls-ca.js';
import { SPEC_ENDPOINTS } from './endpoints.js';
import { basic, bearer, pushImage, startAuthRegistry, type AuthRegistry } from './support.js';

const SERVICE = 'stowage-test';
const ISSUER = 'stowage-test-issuer';

const ACCESS: AuthConfig['access'] = {
  groups: {},
  anonymouspull: ['public/*'],
  rules: [
    { repositories: ['team-a/*', 'public/*'], users: ['alice'], groups: [], actions: ['pull', 'push', 'delete'] },
    { repositories: ['team-a/*'], users: ['bob'], groups: [], actions: ['pull'] },
  ],
};

interface TokenAnswer {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
}

const errorCode = (body: Buffer): string => (JSON.parse(body.toString()) as { errors: { code: string }[] }).errors[0]!.code;

describe('the built-in token server (auth.tokenserver) with htpasswd users', () => {
  let registry: AuthRegistry;
  const token = async (scopes: string[], headers: Record<string, string> = {}): Promise<string> => {
    const query = new URLSearchParams([['service', SERVICE], ...scopes.map((scope) => ['scope', scope] as [string, string])]);
    const response = await registry.send('GET', `/auth/token?${query.toString()}`, { headers });
    expect(response.status).toBe(200);
    const answer = response.json<TokenAnswer>();
    expect(answer.access_token).toBe(answer.token);
    expect(answer.expires_in).toBe(300);
    return answer.token;
  };

  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => ({
      htpasswd: { realm: 'stowage-test', path: `${dir}/htpasswd` },
      token: { realm: '/auth/token', service: SERVICE, issuer: ISSUER },
      tokenserver: { expiration: '5m' },
      access: ACCESS,
    }));
  });
  afterAll(async () => registry?.close());

  for (const endpoint of SPEC_ENDPOINTS) {
    it(`${endpoint.id} without a token is 401 with a Bearer challenge naming exactly the scope it needs`, async () => {
      const response = await registry.send(endpoint.method, endpoint.path);
      expect(response.status).toBe(401);
      const scope = endpoint.scope ? `,scope="${endpoint.scope}"` : '';
      expect(response.headers['www-authenticate']).toBe(`Bearer realm="${registry.url}/auth/token",service="${SERVICE}"${scope}`);
    });
  }

  it('issues a token for a user\'s scope; the token pushes and pulls; /v2/ admits it', async () => {
    const pushToken = await token(['repository:team-a/app:pull,push'], basic('alice'));
    expect((await registry.send('GET', '/v2/', { headers: bearer(pushToken) })).status).toBe(200);
    await pushImage(registry, 'team-a/app', 'v1', bearer(pushToken));
    const pullToken = await token(['repository:team-a/app:pull'], basic('bob'));
    expect((await registry.send('GET', '/v2/team-a/app/manifests/v1', { headers: bearer(pullToken) })).status).toBe(200);
  });

  it('a wrong password at the token endpoint is 401 with a Basic challenge, and no token', async () => {
    const response = await registry.send('GET', `/auth/token?service=${SERVICE}&scope=repository:team-a/app:pull`, { headers: basic('alice', 'wrong') });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(response.body.toString()).not.toContain('token"');
  });

  it('grants only what the rules allow: bob asking for push gets a pull-only token, refused (401 insufficient_scope) on push', async () => {
    const limited = await token(['repository:team-a/app:pull,push'], basic('bob'));
    const [, payload] = limited.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString()).access).toEqual([{ type: 'repository', name: 'team-a/app', actions: ['pull'] }]);
    const push = await registry.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer(limited) });
    expect(push.status).toBe(401);
    expect(errorCode(push.body)).toBe('UNAUTHORIZED');
    expect(push.headers['www-authenticate']).toBe(`Bearer realm="${registry.url}/auth/token",service="${SERVICE}",scope="repository:team-a/app:pull,push",error="insufficient_scope"`);
  });

  it('a token for another repository is refused with 401 insufficient_scope', async () => {
    const other = await token(['repository:public/base:pull'], basic('alice'));
    const response = await registry.send('GET', '/v2/team-a/app/manifests/v1', { headers: bearer(other) });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('answers the OAuth2 password grant (POST) as containerd asks first', async () => {
    const form = new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'alice-secret-1', service: SERVICE, scope: 'repository:team-a/app:pull', client_id: 'ctr' });
    const response = await registry.send('POST', '/auth/token', { body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(response.status).toBe(200);
    const { access_token: accessToken } = response.json<TokenAnswer>();
    expect((await registry.send('GET', '/v2/team-a/app/tags/list', { headers: bearer(accessToken) })).status).toBe(200);
    const wrong = new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'nope', service: SERVICE });
    expect((await registry.send('POST', '/auth/token', { body: wrong.toString() })).status).toBe(401);
  });

  it('gives anonymous callers tokens for anonymouspull repositories only; the catalog needs a user', async () => {
    const alice = await token(['repository:public/base:pull,push'], basic('alice'));
    await pushImage(registry, 'public/base', 'latest', bearer(alice));
    const anonymous = await token(['repository:public/base:pull', 'repository:team-a/app:pull', 'registry:catalog:*']);
    const [, payload] = anonymous.split('.');
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString()).access).toEqual([{ type: 'repository', name: 'public/base', actions: ['pull'] }]);
    expect((await registry.send('GET', '/v2/public/base/manifests/latest', { headers: bearer(anonymous) })).status).toBe(200);
    expect((await registry.send('GET', '/v2/_catalog', { headers: bearer(anonymous) })).status).toBe(401);
    const catalog = await token(['registry:catalog:*'], basic('bob'));
    expect((await registry.send('GET', '/v2/_catalog', { headers: bearer(catalog) })).json()).toEqual({ repositories: ['public/base', 'team-a/app'] });
  });

  it('refuses a service it does not serve', async () => {
    expect((await registry.send('GET', '/auth/token?service=elsewhere', { headers: basic('alice') })).status).toBe(400);
  });
});

describe('tokens of an external issuer (rootcertbundle, jwks)', () => {
  let registry: AuthRegistry;
  let signingKey: KeyObject;
  let signingKid: string;
  let signingCertDer: string;
  let jwksKey: KeyObject;
  let leafKey: KeyObject;

  const sign = (
    key: KeyObject,
    header: Record<string, unknown>,
    claims: { iss?: string; aud?: string; exp?: number; nbf?: number; access?: unknown } = {},
  ): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: claims.access ?? [{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', ...header })
      .setIssuer(claims.iss ?? ISSUER)
      .setSubject('alice')
      .setAudience(claims.aud ?? SERVICE)
      .setNotBefore(claims.nbf ?? now - 10)
      .setExpirationTime(claims.exp ?? now + 300)
      .sign(key);
  };

  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => {
      const ca = createTestCa(dir, 'issuer-ca');
      const leaf = ca.issue('issuer-leaf', { cn: 'token issuer' });
      signingKey = createPrivateKey(readFileSync(ca.key));
      signingKid = libtrustKeyId(createPublicKey(signingKey));
      const leafPem = readFileSync(leaf.cert, 'utf8');
      signingCertDer = leafPem.replace(/-----[^-]+-----|\s/g, '');
      leafKey = createPrivateKey(readFileSync(leaf.key));
      jwksKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      return (async () => {
        const jwk = { ...(await exportJWK(jwksKey)), kid: 'jwks-key-1', alg: 'ES256', use: 'sig' };
        delete (jwk as { d?: string }).d;
        writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
        return { token: { realm: 'https://auth.example.com/token', service: SERVICE, issuer: ISSUER, rootcertbundle: ca.cert, jwks: path.join(dir, 'jwks.json') } };
      })();
    });
  });
  afterAll(async () => registry?.close());

  it('accepts a token whose kid names a bundle key, one whose x5c chains to the bundle, and one whose kid is in the JWKS', async () => {
    const byKid = await sign(signingKey, { kid: signingKid });
    expect((await registry.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer(byKid) })).status).toBe(202);
    const byChain = await sign(leafKey, { x5c: [signingCertDer] });
    expect((await registry.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer(byChain) })).status).toBe(202);
    const byJwks = await sign(jwksKey, { kid: 'jwks-key-1' });
    expect((await registry.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer(byJwks) })).status).toBe(202);
  });

  it('without auth.access the token alone decides: an anonymous token (empty sub) granting pull pulls, and nothing more', async () => {
    const now = Math.floor(Date.now() / 1000);
    const anonymous = await new SignJWT({ access: [{ type: 'repository', name: 'team-a/app', actions: ['pull'] }] })
      .setProtectedHeader({ alg: 'ES256', kid: signingKid })
      .setIssuer(ISSUER)
      .setSubject('')
      .setAudience(SERVICE)
      .setExpirationTime(now + 300)
      .sign(signingKey);
    // something to pull (a POST opens a session without writing to the repository: it does not make one)
    await pushImage(registry, 'team-a/app', 'anonymous', bearer(await sign(signingKey, { kid: signingKid })));
    expect((await registry.send('GET', '/v2/team-a/app/tags/list', { headers: bearer(anonymous) })).status).toBe(200);
    expect((await registry.send('POST', '/v2/team-a/app/blobs/uploads/', { headers: bearer(anonymous) })).status).toBe(401);
  });

  const refusals: [string, () => Promise<string>][] = [
    ['an expired token', () => sign(signingKey, { kid: signingKid }, { exp: Math.floor(Date.now() / 1000) - 600 })],
    ['a token not yet valid', () => sign(signingKey, { kid: signingKid }, { nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['a token for another service (aud)', () => sign(signingKey, { kid: signingKid }, { aud: 'other-registry' })],
    ['a token of another issuer (iss)', () => sign(signingKey, { kid: signingKid }, { iss: 'someone-else' })],
    ['a token signed by an unknown key', () => sign(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey, { kid: signingKid })],
    ['a token whose x5c is self-signed', () => sign(signingKey, { x5c: [Buffer.from('not a cert').toString('base64')] })],
    ['an unsigned token (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, aud: SERVICE, exp: 9e9, access: [] })).toString('base64url')}.`],
    ['a token whose access claim is not a list', () => sign(signingKey, { kid: signingKid }, { access: 'everything' })],
  ];
  for (const [what, make] of refusals) {
    it(`refuses ${what} with 401 UNAUTHORIZED and error="invalid_token"`, async () => {
      const response = await registry.send('GET', '/v2/team-a/app/tags/list', { headers: bearer(await make()) });
      expect(response.status).toBe(401);
      expect(errorCode(response.body)).toBe('UNAUTHORIZED');
      expect(response.headers['www-authenticate']).toBe(`Bearer realm="https://auth.example.com/token",service="${SERVICE}",scope="repository:team-a/app:pull",error="invalid_token"`);
    });
  }
});
