/**
 * /v1/search and /v2/_stowage/search answered from an SQLite file and from a real PostgreSQL: pushes and
 * deletes show at once, annotations are searched, pages follow `last`, and any term (SQL wildcards, quotes,
 * unicode, NUL, very long) gets either the right repositories or a precise 400, never a 5xx.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchConfig } from '../../src/config/search.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { inMemoryDriver, OCI_MANIFEST, pushBlob, pushImage, sha256, startTestRegistry, type TestRegistry } from '../http/support/registry.js';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';

interface V2Answer {
  repositories: { name: string; tags: string[]; description?: string }[];
}
interface V1Answer {
  num_results: number;
  results: { name: string; description: string }[];
}

/** what is pushed: repository -> tag -> annotations */
const PUSHED: Record<string, Record<string, Record<string, string>>> = {
  'shop/cart': { v1: { 'org.opencontainers.image.description': '100% organic cart_service' }, latest: {} },
  'shop/payments': { 'release-2024': { 'org.opencontainers.image.title': "it's \"quoted\"" } },
  'tools/linter': { stable: { 'org.opencontainers.image.description': 'Ünïcode lint — ✓' } },
  'tools/builder': { 'frontend-base': {} },
};

/**
 * The rule, written again from docs/api.md for this test: a repository whose name contains the term (any
 * case) with all its tags; otherwise the tags that, or whose annotation values, contain it.
 */
function expected(stored: typeof PUSHED, term: string): { name: string; tags: string[] }[] {
  const needle = term.toLowerCase();
  const has = (text: string) => text.toLowerCase().includes(needle);
  return Object.keys(stored)
    .sort()
    .flatMap((name) => {
      const tags = Object.keys(stored[name]!).sort();
      if (has(name)) return [{ name, tags }];
      const shown = tags.filter((tag) => has(tag) || Object.values(stored[name]![tag]!).some(has));
      return shown.length > 0 ? [{ name, tags: shown }] : [];
    });
}

let workdir: string;
let postgres: RunningPostgres;
beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-search-endpoints-'));
  postgres = await startPostgres();
}, 180_000);
afterAll(async () => {
  await postgres?.close();
  await rm(workdir, { recursive: true, force: true });
});

const backends: Record<string, () => SearchConfig> = {
  sqlite: () => ({ backend: 'sqlite', path: path.join(workdir, 'index.sqlite'), pathFrom: 'search.path' }),
  postgres: () => ({ backend: 'postgres', url: postgres.url }),
};

describe('a new index on a storage that already holds repositories', () => {
  it('is built from storage before the first search answers', async () => {
    const driver = inMemoryDriver();
    const before = await startTestRegistry({ driver, search: { backend: 'memory' } });
    try {
      await pushImage(before, 'older/image', 'v1');
    } finally {
      await before.close();
    }
    const after = await startTestRegistry({ driver, search: { backend: 'sqlite', path: path.join(workdir, 'new.sqlite'), pathFrom: 'search.path' } });
    try {
      expect((await after.send('GET', '/v2/_stowage/search?q=older')).json<V2Answer>().repositories).toEqual([{ name: 'older/image', tags: ['v1'] }]);
    } finally {
      await after.close();
    }
  });
});

describe('an index that cannot be used', () => {
  it('with the database unreachable: pushes and deletes still succeed, a search is 503 UNAVAILABLE saying nothing of the database', async () => {
    const registry = await startTestRegistry({ deleteEnabled: true, search: { backend: 'postgres', url: 'postgresql://stowage:hunter2@127.0.0.1:1/registry' } });
    try {
      const pushed = await pushImage(registry, 'offline/app', 'v1');
      expect((await registry.send('GET', '/v2/offline/app/manifests/v1')).status).toBe(200);
      expect((await registry.send('DELETE', `/v2/offline/app/manifests/${pushed.digest}`)).status).toBe(202);
      const answer = await registry.send('GET', '/v2/_stowage/search?q=app');
      expect(answer.status).toBe(503);
      const error = answer.json<{ errors: { code: string; message: string }[] }>().errors[0]!;
      expect(error.code).toBe('UNAVAILABLE');
      expect(error.message).toBe('the search index (postgres) cannot be read; try again later');
      expect((await registry.send('GET', '/v1/search?q=app')).status).toBe(503);
    } finally {
      await registry.close();
    }
  });

  it('with search.backend none: both endpoints answer 405 UNSUPPORTED, and pushes go on', async () => {
    const registry = await startTestRegistry({ search: { backend: 'none' } });
    try {
      await pushImage(registry, 'quiet/app', 'v1');
      for (const endpoint of ['/v2/_stowage/search?q=app', '/v1/search?q=app']) {
        const answer = await registry.send('GET', endpoint);
        expect(answer.status).toBe(405);
        expect(answer.json<{ errors: { code: string; message: string }[] }>().errors[0]).toMatchObject({ code: 'UNSUPPORTED', message: 'search is off on this registry (search.backend: none)' });
      }
    } finally {
      await registry.close();
    }
  });

  it('with search.backend none: a manifest push reads no image config, and a delete reads no tag back, for an index that keeps nothing', async () => {
    // both images name the same config, '{}', which an index keeping labels reads on a push and on a delete's refresh
    const configData = `/${sha256('{}').replace(':', '/').replace(/\/(..)/, '/$1/$1')}/data`;
    /** the reads of that config while two images are pushed, then while one of them is deleted */
    const configReads = async (search: SearchConfig): Promise<{ pushing: number; deleting: number }> => {
      const storage = inMemoryDriver();
      const reads: string[] = [];
      const driver: StorageDriver = Object.assign(Object.create(storage) as StorageDriver, {
        getContent: (target: string, signal?: AbortSignal) => (reads.push(target), storage.getContent(target, signal)),
        reader: (target: string, offset: number, signal?: AbortSignal) => (reads.push(target), storage.reader(target, offset, signal)),
      });
      const registry = await startTestRegistry({ deleteEnabled: true, driver, search });
      const count = () => reads.filter((target) => target.endsWith(configData)).length;
      try {
        const first = await pushImage(registry, 'quiet/app', 'v1');
        await pushImage(registry, 'quiet/app', 'v2');
        const pushing = count();
        expect((await registry.send('DELETE', `/v2/quiet/app/manifests/${first.digest}`)).status).toBe(202);
        return { pushing, deleting: count() - pushing };
      } finally {
        await registry.close();
      }
    };
    const kept = await configReads({ backend: 'memory' });
    expect(kept.pushing).toBeGreaterThan(0);
    // a delete reads no config with any index: it only drops the deleted manifest's tags (see 'a delete with an index on')
    expect(kept.deleting).toBe(0);
    expect(await configReads({ backend: 'none' })).toEqual({ pushing: 0, deleting: 0 });
  });
});

describe('a delete with an index on', () => {
  it("reads back nothing of the repository's other tags: only the deleted manifest's tags leave the index", async () => {
    const storage = inMemoryDriver();
    const reads: string[] = [];
    const driver: StorageDriver = Object.assign(Object.create(storage) as StorageDriver, {
      getContent: (target: string, signal?: AbortSignal) => (reads.push(target), storage.getContent(target, signal)),
      reader: (target: string, offset: number, signal?: AbortSignal) => (reads.push(target), storage.reader(target, offset, signal)),
    });
    const registry = await startTestRegistry({ deleteEnabled: true, driver, search: { backend: 'memory' } });
    const OTHERS = 30;
    const search = async (term: string) => (await registry.send('GET', `/v2/_stowage/search?q=${term}`)).json<V2Answer>().repositories;
    try {
      // each tag its own manifest (its own layer), all described: a refresh would read every one and its config
      const describe = (i: number) => ({ annotations: { 'org.opencontainers.image.description': `build number ${i}` } });
      const doomed = await pushImage(registry, 'many/tags', 'doomed', describe(0), 'layer 0');
      const second = await registry.send('PUT', '/v2/many/tags/manifests/doomed-too', { body: doomed.manifest, headers: { 'content-type': OCI_MANIFEST } });
      expect(second.status).toBe(201);
      for (let i = 1; i <= OTHERS; i++) await pushImage(registry, 'many/tags', `t${i}`, describe(i), `layer ${i}`);
      const others = Array.from({ length: OTHERS }, (_, i) => `t${i + 1}`).sort();
      // the first search builds the index from storage; what follows is the delete's own doing
      expect(await search('many')).toEqual([{ name: 'many/tags', tags: ['doomed', 'doomed-too', ...others].sort(), description: 'build number 0' }]);

      reads.length = 0;
      expect((await registry.send('DELETE', `/v2/many/tags/manifests/${doomed.digest}`)).status).toBe(202);
      // the delete reads each tag's current link once to find those naming the manifest, and the manifest once
      // (for its subject); no other manifest, no image config, no tag read twice
      const tagLinks = reads.filter((target) => target.includes('/_manifests/tags/'));
      expect(tagLinks.length).toBeLessThanOrEqual(OTHERS + 2);
      expect(new Set(tagLinks).size).toBe(tagLinks.length);
      expect(reads.filter((target) => target.includes('/blobs/')).length).toBeLessThanOrEqual(1);
      expect(await search('many')).toEqual([{ name: 'many/tags', tags: others, description: 'build number 1' }]);
      expect(await search('number%200')).toEqual([]);

      reads.length = 0;
      expect((await registry.send('DELETE', '/v2/many/tags/manifests/t7')).status).toBe(202);
      expect(reads.filter((target) => !target.includes('/_manifests/tags/t7/'))).toEqual([]);
      expect((await search('number%207'))).toEqual([]);
      expect((await search('number%208'))).toEqual([{ name: 'many/tags', tags: ['t8'], description: 'build number 8' }]);
    } finally {
      await registry.close();
    }
  });
});

describe('the labels of image configs', () => {
  it('are read from storage once per config: the same image under more tags reads it no more, and its labels are found on every tag', async () => {
    const storage = inMemoryDriver();
    const reads: string[] = [];
    const driver: StorageDriver = Object.assign(Object.create(storage) as StorageDriver, {
      getContent: (target: string, signal?: AbortSignal) => (reads.push(target), storage.getContent(target, signal)),
      reader: (target: string, offset: number, signal?: AbortSignal) => (reads.push(target), storage.reader(target, offset, signal)),
    });
    const registry = await startTestRegistry({ driver, search: { backend: 'memory' } });
    const blobData = (digest: string) => `/${digest.replace(':', '/').replace(/\/(..)/, '/$1/$1')}/data`;
    const readsOf = (digest: string) => reads.filter((target) => target.endsWith(blobData(digest))).length;
    const push = async (tag: string, labels: Record<string, string>): Promise<string> => {
      const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: labels } });
      const configDigest = await pushBlob(registry, 'labelled/app', config);
      const layerDigest = await pushBlob(registry, 'labelled/app', 'one layer');
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: 'one layer'.length }],
      });
      expect((await registry.send('PUT', `/v2/labelled/app/manifests/${tag}`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } })).status).toBe(201);
      return configDigest;
    };
    const search = async (term: string) => (await registry.send('GET', `/v2/_stowage/search?q=${term}`)).json<V2Answer>().repositories;
    try {
      // built before the pushes, so that what the index holds is what the pushes recorded
      expect(await search('labelled')).toEqual([]);
      const blue = await push('v1', { team: 'blue squad' });
      expect(readsOf(blue)).toBe(1);
      await push('v1-again', { team: 'blue squad' });
      await push('latest', { team: 'blue squad' });
      expect(readsOf(blue)).toBe(1);
      const red = await push('other', { team: 'red squad' });
      expect(readsOf(red)).toBe(1);
      expect(await search('blue%20squad')).toEqual([{ name: 'labelled/app', tags: ['latest', 'v1', 'v1-again'] }]);
      expect(await search('red%20squad')).toEqual([{ name: 'labelled/app', tags: ['other'] }]);
    } finally {
      await registry.close();
    }
  });
});

describe.each(Object.keys(backends))('search from %s', (backend) => {
  let registry: TestRegistry;
  /** what storage holds, as the test pushed and deleted it */
  const stored: typeof PUSHED = { ...PUSHED };
  beforeAll(async () => {
    registry = await startTestRegistry({ deleteEnabled: true, search: backends[backend]!() });
    for (const [name, tags] of Object.entries(PUSHED)) {
      for (const [tag, annotations] of Object.entries(tags)) await pushImage(registry, name, tag, Object.keys(annotations).length > 0 ? { annotations } : {});
    }
  }, 60_000);
  afterAll(async () => registry?.close());

  const v2 = async (query: string) => {
    const answer = await registry.send('GET', `/v2/_stowage/search?${query}`);
    expect(answer.status, answer.body.toString()).toBe(200);
    return answer;
  };

  it('finds by name, tag and annotation, and shows the description annotation', async () => {
    expect((await v2('q=shop')).json<V2Answer>().repositories.map((r) => r.name)).toEqual(['shop/cart', 'shop/payments']);
    expect((await v2('q=RELEASE')).json<V2Answer>().repositories).toEqual([{ name: 'shop/payments', tags: ['release-2024'] }]);
    expect((await v2('q=organic')).json<V2Answer>().repositories).toEqual([{ name: 'shop/cart', tags: ['v1'], description: '100% organic cart_service' }]);
    const v1 = (await registry.send('GET', '/v1/search?q=%C3%BCn%C3%AFcode')).json<V1Answer>();
    expect(v1.results).toEqual([{ name: 'tools/linter', description: 'Ünïcode lint — ✓', star_count: 0, is_official: false, is_automated: false, is_trusted: false }]);
  });

  it('pages by name with n and last, with a Link to the next page', async () => {
    const first = await v2('q=&n=3');
    expect(first.json<V2Answer>().repositories.map((r) => r.name)).toEqual(['shop/cart', 'shop/payments', 'tools/builder']);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.link ?? '')?.[1];
    expect(next).toContain('last=tools%2Fbuilder');
    const second = await registry.send('GET', next!);
    expect(second.json<V2Answer>().repositories.map((r) => r.name)).toEqual(['tools/linter']);
    expect(second.headers.link).toBeUndefined();
  });

  it('sees a push at once, and a deleted manifest\'s tag goes', async () => {
    const pushed = await pushImage(registry, 'late/arrival', 'first');
    expect((await v2('q=arrival')).json<V2Answer>().repositories).toEqual([{ name: 'late/arrival', tags: ['first'] }]);
    expect((await registry.send('DELETE', `/v2/late/arrival/manifests/${pushed.digest}`)).status).toBe(202);
    expect((await v2('q=arrival')).json<V2Answer>().repositories).toEqual([{ name: 'late/arrival', tags: [] }]);
    // the repository stays (as in the catalog), with no tag
    stored['late/arrival'] = {};
  });

  it('answers any term with the right repositories or a precise 400, never a 5xx (SQL wildcards, quotes, unicode, NUL)', async () => {
    const hostile = fc.oneof(
      fc.constantFrom('%', '_', '%_%', "'", '"', '\\', "' OR '1'='1", "'; DROP TABLE stowage_search_tags; --", '\u0000', 'a\u0000b', 'İ', 'ß', '✓', '😀'),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: fc.constantFrom('%', '_', "'", '"', '\\', 'c', 'a', 'r', 't', '/', '-', ' '), maxLength: 8 }),
      fc.string({ unit: 'binary', minLength: 250, maxLength: 300 }),
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (term) => {
        const answer = await registry.send('GET', `/v2/_stowage/search?q=${encodeURIComponent(term)}`);
        if (term.length > 255) {
          expect(answer.status).toBe(400);
          expect(answer.json<{ errors: { code: string }[] }>().errors[0]!.code).toBe('UNSUPPORTED');
          return;
        }
        expect(answer.status, `${JSON.stringify(term)}: ${answer.body.toString()}`).toBe(200);
        expect(answer.json<V2Answer>().repositories.map(({ name, tags }) => ({ name, tags })), JSON.stringify(term)).toEqual(expected(stored, term));
        const v1 = await registry.send('GET', `/v1/search?q=${encodeURIComponent(term)}&last=${encodeURIComponent(term)}`);
        expect(v1.status).toBe(200);
      }),
      { numRuns: 80 },
    );
    // the tables are intact after all that
    expect((await v2('q=')).json<V2Answer>().repositories.map((r) => r.name)).toEqual(Object.keys(stored).sort());
  });

  it('forgets the tags retention deletes', async () => {
    await pushImage(registry, 'kept/few', 'keep-me');
    await pushImage(registry, 'kept/few', 'drop-me');
    expect((await v2('q=kept/few')).json<V2Answer>().repositories).toEqual([{ name: 'kept/few', tags: ['drop-me', 'keep-me'] }]);
    const report = await registry.registry.applyRetention([{ repositories: ['kept/few'], keeptags: ['keep-.*'] }], false);
    expect(report.tagsDeleted.map((t) => t.tag)).toEqual(['drop-me']);
    expect((await v2('q=kept/few')).json<V2Answer>().repositories).toEqual([{ name: 'kept/few', tags: ['keep-me'] }]);
    stored['kept/few'] = { 'keep-me': {} };
  });

  it('pages with a hostile last: never a 5xx', async () => {
    for (const last of ['\u0000', "'", '%', '😀', 'z'.repeat(200)]) {
      const answer = await registry.send('GET', `/v2/_stowage/search?q=&last=${encodeURIComponent(last)}`);
      expect(answer.status, last).toBe(200);
    }
  });
});
