import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCI_INDEX, pushBlob, startTestRegistry, type TestRegistry } from './support/registry.js';

describe('tag listing', () => {
  let registry: TestRegistry;
  const tags = ['b', 'a', 'C', '1.0', 'latest', 'a-b', 'z_9'];
  const sorted = [...tags].sort();

  beforeAll(async () => {
    registry = await startTestRegistry();
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    for (const tag of tags) {
      const response = await registry.send('PUT', `/v2/tags/repo/manifests/${tag}`, { body, headers: { 'content-type': OCI_INDEX } });
      expect(response.status).toBe(201);
    }
  });
  afterAll(async () => {
    await registry.close();
  });

  const list = (query = '') => registry.send('GET', `/v2/tags/repo/tags/list${query}`);

  it('lists every tag in lexical order', async () => {
    const response = await list();
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ name: 'tags/repo', tags: sorted });
    expect(response.headers.link).toBeUndefined();
  });

  it('n limits the page and Link names the next one', async () => {
    const response = await list('?n=3');
    expect(response.json()).toEqual({ name: 'tags/repo', tags: sorted.slice(0, 3) });
    expect(response.headers.link).toBe(`</v2/tags/repo/tags/list?n=3&last=${sorted[2]}>; rel="next"`);
  });

  it('following Link pages through every tag exactly once', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v2/tags/repo/tags/list?n=2';
    while (next) {
      const response = await registry.send('GET', next);
      seen.push(...response.json<{ tags: string[] }>().tags);
      next = /^<([^>]+)>; rel="next"$/.exec(response.headers.link ?? '')?.[1];
    }
    expect(seen).toEqual(sorted);
  });

  it('last is exclusive and works without n', async () => {
    expect((await list(`?last=${sorted[3]}`)).json()).toEqual({ name: 'tags/repo', tags: sorted.slice(4) });
    expect((await list(`?n=2&last=${sorted[3]}`)).json()).toEqual({ name: 'tags/repo', tags: sorted.slice(4, 6) });
  });

  it('the last page has no Link', async () => {
    const response = await list(`?n=${tags.length}`);
    expect(response.json<{ tags: string[] }>().tags).toEqual(sorted);
    expect(response.headers.link).toBeUndefined();
  });

  it('n=0 answers an empty list without Link', async () => {
    const response = await list('?n=0');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ name: 'tags/repo', tags: [] });
    expect(response.headers.link).toBeUndefined();
  });

  it.each(['-1', 'ten', '1.5', ''])('n=%s answers 400 PAGINATION_NUMBER_INVALID', async (n) => {
    const response = await list(`?n=${n}`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'PAGINATION_NUMBER_INVALID' }] });
  });

  it('an unknown repository answers 404 NAME_UNKNOWN', async () => {
    const response = await registry.send('GET', '/v2/no/such/tags/list');
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
  });

  it('a repository with blobs but no tags lists none', async () => {
    await pushBlob(registry, 'tags/blobs-only', 'a blob');
    const response = await registry.send('GET', '/v2/tags/blobs-only/tags/list');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ name: 'tags/blobs-only', tags: [] });
  });
});

describe('the catalog', () => {
  let registry: TestRegistry;
  const repositories = ['zeta', 'alpha/one', 'alpha/two', 'alpha', 'mid/deep/er/path'];

  beforeAll(async () => {
    registry = await startTestRegistry();
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    for (const name of repositories) {
      await registry.send('PUT', `/v2/${name}/manifests/v1`, { body, headers: { 'content-type': OCI_INDEX } });
    }
    await pushBlob(registry, 'blobs/only', 'not a repository in the catalog: no manifests');
  });
  afterAll(async () => {
    await registry.close();
  });

  it('lists repositories holding manifests, in lexical order', async () => {
    const response = await registry.send('GET', '/v2/_catalog');
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ repositories: [...repositories].sort() });
  });

  it('pages with n, last and Link', async () => {
    const first = await registry.send('GET', '/v2/_catalog?n=2');
    expect(first.json()).toEqual({ repositories: ['alpha', 'alpha/one'] });
    expect(first.headers.link).toBe('</v2/_catalog?n=2&last=alpha%2Fone>; rel="next"');
    const second = await registry.send('GET', '/v2/_catalog?n=2&last=alpha%2Fone');
    expect(second.json()).toEqual({ repositories: ['alpha/two', 'mid/deep/er/path'] });
  });

  it('n above 1000 answers 400 PAGINATION_NUMBER_INVALID', async () => {
    const response = await registry.send('GET', '/v2/_catalog?n=1001');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'PAGINATION_NUMBER_INVALID' }] });
  });

  it('an empty registry has an empty catalog', async () => {
    const empty = await startTestRegistry();
    try {
      expect((await empty.send('GET', '/v2/_catalog')).json()).toEqual({ repositories: [] });
    } finally {
      await empty.close();
    }
  });
});
