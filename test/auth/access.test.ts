import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../src/auth/access.js';
import type { AuthConfig } from '../../src/config/types.js';
import { basic, pushImage, sha256, startAuthRegistry, type AuthRegistry } from './support.js';

const RULES = (dir: string, automount = false): AuthConfig => ({
  htpasswd: { realm: 'stowage-test', path: `${dir}/htpasswd` },
  automount,
  access: {
    groups: { 'team-a-devs': ['alice'], readers: ['bob'] },
    anonymouspull: ['public/**'],
    rules: [
      { repositories: ['team-a/*'], users: [], groups: ['team-a-devs'], actions: ['pull', 'push', 'delete'] },
      { repositories: ['team-a/*'], users: [], groups: ['readers'], actions: ['pull'] },
      { repositories: ['team-b/**', 'public/**'], users: ['carol'], groups: [], actions: ['pull', 'push'] },
    ],
  },
});

describe('name globs', () => {
  it('`*` stays within a path segment, `**` crosses them, and regex characters are literal', () => {
    const granted = (glob: string, repository: string): boolean =>
      new AccessPolicy({ groups: {}, anonymouspull: [], rules: [{ repositories: [glob], users: ['u'], groups: [], actions: ['pull'] }] }).allowed('u', repository).has('pull');
    expect(granted('team-a/*', 'team-a/app')).toBe(true);
    expect(granted('team-a/*', 'team-a/x/app')).toBe(false);
    expect(granted('team-a/**', 'team-a/x/app')).toBe(true);
    expect(granted('team-a/**', 'team-a'), '`team-a/**` grants nothing on `team-a` itself').toBe(false);
    expect(granted('a.b', 'axb')).toBe(false);
  });

  it('nothing is allowed that no rule grants', () => {
    const policy = new AccessPolicy({ groups: {}, anonymouspull: [], rules: [{ repositories: ['x'], users: ['u'], groups: [], actions: ['pull'] }] });
    expect([...policy.allowed('u', 'x')]).toEqual(['pull']);
    expect([...policy.allowed('u', 'y')]).toEqual([]);
    expect([...policy.allowed('v', 'x')]).toEqual([]);
    expect([...policy.allowed(undefined, 'x')]).toEqual([]);
  });
});

describe('authorization rules (auth.access) over htpasswd users', () => {
  let registry: AuthRegistry;
  let teamALayer: string;
  let teamBLayer: string;
  beforeAll(async () => {
    registry = await startAuthRegistry((dir) => RULES(dir));
    teamALayer = (await pushImage(registry, 'team-a/app', 'v1', basic('alice'))).layer;
    teamBLayer = (await pushImage(registry, 'team-b/app', 'v1', basic('carol'))).layer;
    await pushImage(registry, 'public/base', 'latest', basic('carol'));
  });
  afterAll(async () => registry?.close());

  it('a user a rule does not name for an action is 403 DENIED, not 401', async () => {
    const push = await registry.send('PUT', '/v2/team-a/app/manifests/v2', { headers: basic('bob'), body: '{}' });
    expect(push.status).toBe(403);
    expect(push.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe('DENIED');
    const pull = await registry.send('GET', '/v2/team-b/app/manifests/v1', { headers: basic('alice') });
    expect(pull.status).toBe(403);
    const del = await registry.send('DELETE', '/v2/team-b/app/manifests/v1', { headers: basic('carol') });
    expect(del.status).toBe(403);
    expect((await registry.send('GET', '/v2/team-b/app/manifests/v1', { headers: basic('carol') })).status).toBe(200);
  });

  it('group members get the group rule: bob (readers) pulls team-a, alice (team-a-devs) deletes there', async () => {
    expect((await registry.send('GET', '/v2/team-a/app/tags/list', { headers: basic('bob') })).json()).toEqual({ name: 'team-a/app', tags: ['v1'] });
    await pushImage(registry, 'team-a/tmp', 'gone', basic('alice'));
    expect((await registry.send('DELETE', '/v2/team-a/tmp/manifests/gone', { headers: basic('alice') })).status).toBe(202);
  });

  it('anonymous callers pull what anonymouspull names and nothing else (401 with the scope elsewhere)', async () => {
    expect((await registry.send('GET', '/v2/public/base/manifests/latest')).status).toBe(200);
    const refused = await registry.send('GET', '/v2/team-a/app/manifests/v1');
    expect(refused.status).toBe(401);
    const push = await registry.send('POST', '/v2/public/base/blobs/uploads/');
    expect(push.status).toBe(401);
  });

  it('_catalog lists only the repositories the caller may pull, page by page', async () => {
    const catalog = async (headers: Record<string, string>, query = ''): Promise<unknown> => (await registry.send('GET', `/v2/_catalog${query}`, { headers })).json();
    expect(await catalog(basic('alice'))).toEqual({ repositories: ['public/base', 'team-a/app', 'team-a/tmp'] });
    expect(await catalog(basic('carol'))).toEqual({ repositories: ['public/base', 'team-b/app'] });
    const firstPage = await registry.send('GET', '/v2/_catalog?n=1', { headers: basic('carol') });
    expect(firstPage.json()).toEqual({ repositories: ['public/base'] });
    expect(firstPage.headers['link']).toContain('last=public%2Fbase');
    expect(await catalog(basic('carol'), '?n=1&last=public%2Fbase')).toEqual({ repositories: ['team-b/app'] });
    // listing needs a login even where anonymous pulls are allowed
    expect((await registry.send('GET', '/v2/_catalog')).status).toBe(401);
  });

  it('a mount comes only from a repository the caller may pull: otherwise it is an ordinary upload (202) and nothing is copied', async () => {
    const refused = await registry.send('POST', `/v2/team-a/app/blobs/uploads/?mount=${teamBLayer}&from=team-b/app`, { headers: basic('alice') });
    expect(refused.status).toBe(202);
    expect((await registry.send('HEAD', `/v2/team-a/app/blobs/${teamBLayer}`, { headers: basic('alice') })).status).toBe(404);
    const allowed = await registry.send('POST', `/v2/team-b/app/blobs/uploads/?mount=${sha256('{}')}&from=public/base`, { headers: basic('carol') });
    expect(allowed.status).toBe(201);
  });

  it('a mount without `from` is refused when auth.automount is off (the default with authentication)', async () => {
    const response = await registry.send('POST', `/v2/team-a/app/blobs/uploads/?mount=${teamBLayer}`, { headers: basic('alice') });
    expect(response.status).toBe(202);
    expect((await registry.send('HEAD', `/v2/team-a/app/blobs/${teamBLayer}`, { headers: basic('alice') })).status).toBe(404);
    expect(teamALayer).not.toBe(teamBLayer);
  });

  it('referrers of a repository the caller may not pull are refused', async () => {
    expect((await registry.send('GET', `/v2/team-b/app/referrers/${teamBLayer}`, { headers: basic('alice') })).status).toBe(403);
    expect((await registry.send('GET', `/v2/team-b/app/referrers/${teamBLayer}`, { headers: basic('carol') })).status).toBe(200);
  });
});

describe('auth.automount: true', () => {
  let registry: AuthRegistry;
  afterAll(async () => registry?.close());
  it('mounts a blob by digest without `from`', async () => {
    registry = await startAuthRegistry((dir) => RULES(dir, true));
    const { layer } = await pushImage(registry, 'team-b/app', 'v1', basic('carol'));
    const response = await registry.send('POST', `/v2/team-a/app/blobs/uploads/?mount=${layer}`, { headers: basic('alice') });
    expect(response.status).toBe(201);
  });
});
