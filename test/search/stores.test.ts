/**
 * The three search stores (memory, an SQLite file, a real PostgreSQL from Debian's package) keep the same
 * rules: a refresh from storage never undoes a change written after its read, a build's prune keeps what was
 * pushed meanwhile, candidates treat the term as data (SQL wildcards and quotes match themselves), and pages
 * follow name order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySearchStore } from '../../src/registry/search/memory-store.js';
import { PostgresSearchStore } from '../../src/registry/search/postgres-store.js';
import { SqliteSearchStore } from '../../src/registry/search/sqlite-store.js';
import { foldForSearch, type SearchStore } from '../../src/registry/search/store.js';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';

let workdir: string;
let postgres: RunningPostgres;
let databases = 0;

beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-search-stores-'));
  postgres = await startPostgres();
}, 180_000);
afterAll(async () => {
  await postgres?.close();
  await rm(workdir, { recursive: true, force: true });
});

/** a store with nothing in it: a new file, or a new PostgreSQL database */
const fresh: Record<string, () => Promise<SearchStore>> = {
  memory: async () => new MemorySearchStore(),
  sqlite: async () => new SqliteSearchStore(path.join(workdir, `index-${++databases}.sqlite`)),
  postgres: async () => {
    const name = `search_${++databases}`;
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    // CREATE DATABASE cannot take a parameter; the name is ours
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return new PostgresSearchStore(postgres.url.replace(/\/postgres$/, `/${name}`));
  },
};

const tagsOf = async (store: SearchStore, name: string) => [...((await store.entries([name])).get(name)?.keys() ?? [])].sort();

describe.each(Object.keys(fresh))('the %s search store', (kind) => {
  let store: SearchStore;
  beforeAll(async () => {
    store = await fresh[kind]!();
  });
  afterAll(async () => store?.close());

  it('records pushes, and a refresh replaces the tags with what storage held', async () => {
    await store.tagsPushed('team/app', ['v1', 'v2'], { 'org.opencontainers.image.description': 'the app' }, 1000);
    expect(await tagsOf(store, 'team/app')).toEqual(['v1', 'v2']);
    expect((await store.entries(['team/app'])).get('team/app')!.get('v1')).toEqual({ 'org.opencontainers.image.description': 'the app' });
    await store.refresh('team/app', new Map([['v2', {}]]), 2000);
    expect(await tagsOf(store, 'team/app')).toEqual(['v2']);
    expect((await store.entries(['team/app'])).get('team/app')!.get('v2')).toEqual({});
  });

  it('a refresh keeps a tag pushed after its read, and leaves a newer refresh alone', async () => {
    await store.tagsPushed('race/one', ['old'], {}, 1000);
    // read at 2000 saw only "old"; a push at 2500 lands before the refresh is written
    await store.tagsPushed('race/one', ['new'], {}, 2500);
    await store.refresh('race/one', new Map([['old', {}]]), 2000);
    expect(await tagsOf(store, 'race/one')).toEqual(['new', 'old']);
    // a delete's refresh read at 3000 (old gone); then a build's refresh read earlier, at 2800, arrives late
    await store.refresh('race/one', new Map([['new', {}]]), 3000);
    await store.refresh('race/one', new Map([['old', {}], ['new', {}]]), 2800);
    expect(await tagsOf(store, 'race/one')).toEqual(['new']);
  });

  it('a repository storage no longer holds goes, unless something was pushed to it after the read', async () => {
    await store.tagsPushed('gone/entirely', ['x'], {}, 1000);
    await store.refresh('gone/entirely', undefined, 2000);
    expect((await store.entries(['gone/entirely'])).has('gone/entirely')).toBe(false);
    await store.tagsPushed('gone/back', ['x'], {}, 1000);
    await store.tagsPushed('gone/back', ['y'], {}, 2500);
    await store.refresh('gone/back', undefined, 2000);
    expect(await tagsOf(store, 'gone/back')).toEqual(['y']);
  });

  it("a manifest delete removes only the tags it removed, and not one pushed again after the delete began", async () => {
    await store.tagsPushed('del/app', ['v1', 'v2', 'keep'], { title: 'x' }, 1000);
    await store.tagsPushed('del/app', ['again'], {}, 3000);
    // the delete began at 2000: v1 goes, "again" was pushed since and stays, an unknown tag changes nothing
    await store.tagsRemoved('del/app', ['v1', 'again', 'never-pushed'], 2000);
    expect(await tagsOf(store, 'del/app')).toEqual(['again', 'keep', 'v2']);
    expect((await store.entries(['del/app'])).get('del/app')!.get('keep')).toEqual({ title: 'x' });
    // every tag gone: the repository is still there (storage still holds it), with none
    await store.tagsRemoved('del/app', ['again', 'keep', 'v2'], 4000);
    expect((await store.entries(['del/app'])).has('del/app')).toBe(true);
    expect(await tagsOf(store, 'del/app')).toEqual([]);
    await store.tagsRemoved('del/unknown', ['x'], 4000);
    expect((await store.entries(['del/unknown'])).has('del/unknown')).toBe(false);
  });

  it('prune removes what the catalog no longer lists, keeping what was written since the build began', async () => {
    await store.tagsPushed('prune/stale', ['a'], {}, 1000);
    await store.tagsPushed('prune/listed', ['a'], {}, 1000);
    await store.tagsPushed('prune/during', ['a'], {}, 5000);
    await store.prune(new Set(['prune/listed']), 4000);
    const entries = await store.entries(['prune/stale', 'prune/listed', 'prune/during']);
    expect([...entries.keys()].sort()).toEqual(['prune/during', 'prune/listed']);
  });

  it('treats the term as data: % _ \\ and quotes match only themselves', async () => {
    await store.tagsPushed('data/percent', ['v1'], { note: "100% it's \"quoted\" a_b back\\slash" }, 1000);
    await store.tagsPushed('data/plain', ['v1'], { note: 'nothing special here ab' }, 1000);
    const inData = async (term: string) => (await store.candidates(foldForSearch(term), 'data/', 100)).filter((name) => name.startsWith('data/'));
    for (const term of ['%', '_', "'", '"', '\\', "it's", '"quoted"']) expect(await inData(term), term).toEqual(['data/percent']);
    for (const term of ['%_', "' OR 1=1 --", '%ab', 'a%b', "'; DROP TABLE tags; --"]) expect(await inData(term), term).toEqual([]);
    expect(await inData('ab')).toEqual(['data/plain']);
  });

  it('lists candidates in name order after `after`, at most `limit`, and matches tags and annotation values case-insensitively', async () => {
    for (const name of ['page/c', 'page/a', 'page/b', 'page/d']) await store.tagsPushed(name, ['t'], {}, 1000);
    expect(await store.candidates('page/', undefined, 2)).toEqual(['page/a', 'page/b']);
    expect(await store.candidates('page/', 'page/b', 10)).toEqual(['page/c', 'page/d']);
    await store.tagsPushed('case/x', ['Release-Candidate'], { title: 'Ünïcode Title' }, 1000);
    expect(await store.candidates(foldForSearch('RELEASE-cand'), undefined, 10)).toContain('case/x');
    expect(await store.candidates(foldForSearch('ÜNÏCODE'), undefined, 10)).toContain('case/x');
    expect(await store.candidates(foldForSearch('nul\u0000byte'), undefined, 10)).toEqual([]);
  });

  it('remembers when it was built', async () => {
    expect(await store.builtAt()).toBeUndefined();
    await store.markBuilt(1234);
    expect(await store.builtAt()).toBe(1234);
  });
});

describe('the SQLite store', () => {
  it('keeps its rows in the file across close and open', async () => {
    const file = path.join(workdir, 'reopened.sqlite');
    const first = new SqliteSearchStore(file);
    await first.tagsPushed('kept/app', ['v1'], { a: 'b' }, 1000);
    await first.markBuilt(42);
    await first.close();
    const second = new SqliteSearchStore(file);
    try {
      expect(await tagsOf(second, 'kept/app')).toEqual(['v1']);
      expect(await second.builtAt()).toBe(42);
    } finally {
      await second.close();
    }
  });
});

describe('the PostgreSQL store', () => {
  it('creates its schema once when several processes start together, and never shows the password', async () => {
    const stores = [new PostgresSearchStore(postgres.url), new PostgresSearchStore(postgres.url), new PostgresSearchStore(postgres.url)];
    try {
      await Promise.all(stores.map((store, i) => store.tagsPushed(`together/${i}`, ['v1'], {}, 1000)));
      expect(await stores[0]!.candidates('together/', undefined, 10)).toEqual(['together/0', 'together/1', 'together/2']);
      expect(stores[0]!.location).not.toContain(postgres.password);
      expect(stores[0]!.location).toContain('*****');
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('answers a search failure when the server is unreachable, rather than hanging', async () => {
    const unreachable = new PostgresSearchStore(`postgresql://stowage:x@127.0.0.1:1/postgres`);
    try {
      await expect(unreachable.candidates('x', undefined, 1)).rejects.toThrow(/ECONNREFUSED|connect/);
    } finally {
      await unreachable.close();
    }
  });
});
