/** The upstream client's listings for scheduled sync: tags of a repository and the catalog, page after page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamClient, UpstreamError } from '../../../src/registry/mirror/upstream.js';
import { pushImage, startTestRegistry, type TestRegistry } from '../../http/support/registry.js';
import { startPopulatedUpstream, type PopulatedUpstream } from './support.js';

describe('listing an upstream stowage, page by page', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
    for (const tag of ['v1', 'v2', 'v3', 'v4', 'v5']) await pushImage(registry, 'team/app', tag);
    for (const name of ['team/tool', 'other/thing']) await pushImage(registry, name, 'latest');
  });
  afterAll(async () => registry?.close());

  it('follows the Link of every page until the last, for tags and for the catalog', async () => {
    const client = new UpstreamClient({ name: 'peer', remoteurl: registry.url }, { listPageSize: 2 });
    try {
      expect(await client.listTags('team/app')).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
      expect(await client.listRepositories()).toEqual(['other/thing', 'team/app', 'team/tool']);
    } finally {
      await client.close();
    }
  });

  it('answers a repository the upstream does not know as not-found', async () => {
    const client = new UpstreamClient({ name: 'peer', remoteurl: registry.url });
    try {
      const err = await client.listTags('no/such').then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamError);
      expect((err as UpstreamError).failure).toBe('not-found');
    } finally {
      await client.close();
    }
  });
});

describe('listing distribution 2.8 with htpasswd', () => {
  let upstream: PopulatedUpstream;
  beforeAll(async () => {
    upstream = await startPopulatedUpstream();
  }, 120_000);
  afterAll(async () => upstream?.close());

  it('lists tags and the catalog with the configured credentials', async () => {
    const client = new UpstreamClient({ name: 'dist', remoteurl: upstream.proxy.url, username: upstream.user, password: upstream.password }, { listPageSize: 1 });
    try {
      expect(await client.listTags('library/app')).toEqual(['v1']);
      expect(await client.listRepositories()).toEqual(['library/app', 'library/multi']);
      // one name a page: the second page was asked for by the Link of the first
      expect(upstream.proxy.count('GET', /^\/v2\/_catalog\?.*last=library%2Fapp/)).toBe(1);
    } finally {
      await client.close();
    }
  });
});
