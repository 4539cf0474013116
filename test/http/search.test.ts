/**
 * Search: `GET /v1/search` (the request the docker daemon sends for `docker search <host>/<term>`, and its
 * `/v1/_ping` first) and stowage's paged `GET /v2/_stowage/search`, answered from the search index that
 * manifest pushes and deletes keep; with auth.access, only repositories the caller may pull are listed;
 * hostile parameters are 400 with OCI error JSON.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, startTwoTeamRegistry, type AuthRegistry } from '../auth/support.js';
import { pushImage, startTestRegistry, type TestRegistry } from './support/registry.js';

interface V1Answer {
  num_results: number;
  num_pages: number;
  page: number;
  page_size: number;
  query: string;
  results: { name: string; description: string; star_count: number; is_official: boolean; is_automated: boolean }[];
}
interface V2Answer {
  query: string;
  repositories: { name: string; tags: string[] }[];
}

describe('search', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ deleteEnabled: true });
    await pushImage(registry, 'web/frontend', 'v1');
    await pushImage(registry, 'web/backend', 'stable');
    await pushImage(registry, 'tools/builder', 'frontend-base');
  });
  afterAll(async () => registry?.close());

  it('answers the docker daemon: /v1/_ping, then /v1/search?q=&n= with the v1 shape', async () => {
    const ping = await registry.send('GET', '/v1/_ping');
    expect(ping.status).toBe(200);
    const answer = await registry.send('GET', '/v1/search?q=frontend&n=25');
    expect(answer.status).toBe(200);
    const body = answer.json<V1Answer>();
    // a name match, and a repository whose tag matches
    expect(body).toMatchObject({ num_results: 2, num_pages: 1, page: 1, page_size: 25, query: 'frontend' });
    expect(body.results.map((r) => r.name)).toEqual(['tools/builder', 'web/frontend']);
    expect(body.results[0]).toEqual({ name: 'tools/builder', description: 'tags: frontend-base', star_count: 0, is_official: false, is_automated: false, is_trusted: false });
  });

  it('keeps the index on push and delete', async () => {
    expect((await registry.send('GET', '/v1/search?q=newcomer')).json<V1Answer>().num_results).toBe(0);
    const pushed = await pushImage(registry, 'team/newcomer', 'first');
    expect((await registry.send('GET', '/v1/search?q=newcomer')).json<V1Answer>().results.map((r) => r.name)).toEqual(['team/newcomer']);
    await pushImage(registry, 'web/backend', 'release-candidate');
    const byTag = (await registry.send('GET', '/v2/_stowage/search?q=release-cand')).json<V2Answer>();
    expect(byTag.repositories).toEqual([{ name: 'web/backend', tags: ['release-candidate'] }]);
    expect((await registry.send('DELETE', `/v2/team/newcomer/manifests/${pushed.digest}`)).status).toBe(202);
    const after = (await registry.send('GET', '/v2/_stowage/search?q=newcomer')).json<V2Answer>();
    // the repository stays (as in the catalog), its deleted manifest's tag is gone
    expect(after.repositories).toEqual([{ name: 'team/newcomer', tags: [] }]);
  });

  it('pages /v2/_stowage/search with n and last, and /v1/search with page', async () => {
    const first = await registry.send('GET', '/v2/_stowage/search?q=web&n=1');
    expect(first.json<V2Answer>().repositories.map((r) => r.name)).toEqual(['web/backend']);
    const link = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? '')?.[1];
    expect(link).toBeDefined();
    const second = await registry.send('GET', link!);
    expect(second.json<V2Answer>().repositories.map((r) => r.name)).toEqual(['web/frontend']);
    expect(second.headers.link).toBeUndefined();
    const v1 = (await registry.send('GET', '/v1/search?q=web&n=1&page=2')).json<V1Answer>();
    expect(v1).toMatchObject({ num_results: 2, num_pages: 2, page: 2, page_size: 1 });
    expect(v1.results.map((r) => r.name)).toEqual(['web/frontend']);
  });

  it('indexes the annotations of tagged manifests: a term in one finds the repository, the description annotation is shown', async () => {
    await pushImage(registry, 'db/store', '16', { annotations: { 'org.opencontainers.image.description': 'A Relational Database', 'org.opencontainers.image.vendor': 'Acme Data' } });
    const v1 = (await registry.send('GET', '/v1/search?q=acme')).json<V1Answer>();
    expect(v1.results.map((r) => [r.name, r.description])).toEqual([['db/store', 'A Relational Database']]);
    const v2 = (await registry.send('GET', '/v2/_stowage/search?q=relational')).json<V2Answer>();
    expect(v2.repositories).toEqual([{ name: 'db/store', tags: ['16'], description: 'A Relational Database' }]);
  });

  it('builds the index from storage: another registry process over the same storage finds what this one stored', async () => {
    const other = await startTestRegistry({ driver: registry.driver });
    try {
      const v2 = (await other.send('GET', '/v2/_stowage/search?q=acme')).json<V2Answer>();
      expect(v2.repositories).toEqual([{ name: 'db/store', tags: ['16'], description: 'A Relational Database' }]);
      const all = (await other.send('GET', '/v2/_stowage/search?n=1000')).json<V2Answer>();
      expect(all.repositories.map((r) => r.name)).toEqual(['db/store', 'team/newcomer', 'tools/builder', 'web/backend', 'web/frontend']);
      expect(all.repositories.find((r) => r.name === 'web/backend')!.tags).toEqual(['release-candidate', 'stable']);
    } finally {
      await other.close();
    }
  });

  it('refuses hostile parameters with 400 and OCI error JSON, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), async (n, page) => {
        const query = new URLSearchParams({ q: 'web', n, page }).toString();
        for (const path of [`/v1/search?${query}`, `/v2/_stowage/search?${query}`]) {
          const answer = await registry.send('GET', path);
          expect([200, 400]).toContain(answer.status);
          if (answer.status === 400) expect(answer.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe('PAGINATION_NUMBER_INVALID');
        }
      }),
      { numRuns: 40 },
    );
    expect((await registry.send('GET', `/v1/search?q=${'x'.repeat(300)}`)).status).toBe(400);
    expect((await registry.send('GET', '/v2/_stowage/search?n=5000')).status).toBe(400);
  });
});

describe('search with authorization', () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startTwoTeamRegistry('search-test');
  });
  afterAll(async () => registry?.close());

  it('lists only the repositories the caller may pull, and asks an anonymous caller to log in', async () => {
    const alice = (await registry.send('GET', '/v1/search?q=app', { headers: basic('alice') })).json() as unknown as V1Answer;
    expect(alice.results.map((r) => r.name)).toEqual(['team-a/app']);
    const carol = (await registry.send('GET', '/v2/_stowage/search?q=app', { headers: basic('carol') })).json() as unknown as V2Answer;
    expect(carol.repositories.map((r) => r.name)).toEqual(['team-b/app']);
    const bob = (await registry.send('GET', '/v1/search?q=app', { headers: basic('bob') })).json() as unknown as V1Answer;
    expect(bob.num_results).toBe(0);
    expect((await registry.send('GET', '/v1/search?q=app')).status).toBe(401);
  });
});
