/**
 * `stowage search reindex`: after the SQLite file was deleted it rebuilds the index from storage alone, and
 * run while a server takes pushes and deletes it leaves a sound database holding every change; the same on
 * a real PostgreSQL. With a memory index it says there is nothing to rebuild.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSearchStore } from '../../src/registry/search/sqlite-store.js';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';
import { startStowageProcess } from '../support/stowage.js';
import { pushImageTo } from '../support/push-by-url.js';
import { deleteManifestAt, searchAt } from './support.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** a storage folder and a config beside it: filesystem driver there, plus `searchLines` */
async function setUp(searchLines: string[] = []): Promise<{ storage: string; config: string; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-reindex-'));
  made.push(dir);
  const storage = path.join(dir, 'storage');
  const config = path.join(dir, 'stowage.config.yaml');
  await writeFile(config, ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(storage)}`, ...searchLines, ''].join('\n'));
  return { storage, config, dir };
}

const reindex = (config: string, cwd: string) => runCli(['search', 'reindex', '--config', config], { cwd });

beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

describe('stowage search reindex on the default SQLite file', () => {
  it('rebuilds every repository and tag from storage after the file was deleted', async () => {
    const { storage, config, dir } = await setUp();
    const server = await startStowageProcess({ rootdirectory: storage });
    try {
      await pushImageTo(server.url, 'team/api', 'v1', { 'org.opencontainers.image.description': 'the public API' });
      await pushImageTo(server.url, 'team/api', 'v2');
      await pushImageTo(server.url, 'team/worker', 'latest', {}, { maintainer: 'night shift' });
    } finally {
      await server.close();
    }
    const file = path.join(storage, 'stowage-search.sqlite');
    expect(existsSync(file)).toBe(true);
    for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });

    const result = await reindex(config, dir);
    expect(result.stderr).toContain('rebuilding the search index (sqlite');
    expect(result.stdout).toBe('search index rebuilt: 2 repositories\n');
    expect(result.code).toBe(0);

    // what the command wrote, read from the file before any server could build anything
    const store = new SqliteSearchStore(file);
    try {
      expect(await store.candidates('', undefined, 10)).toEqual(['team/api', 'team/worker']);
      const entries = await store.entries(['team/api', 'team/worker']);
      expect([...entries.get('team/api')!.keys()].sort()).toEqual(['v1', 'v2']);
      expect(entries.get('team/api')!.get('v1')).toEqual({ 'org.opencontainers.image.description': 'the public API' });
      expect(entries.get('team/worker')!.get('latest')).toEqual({ maintainer: 'night shift' });
      expect(await store.builtAt()).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
    const again = await startStowageProcess({ rootdirectory: storage });
    try {
      expect(await searchAt(again.url, 'public api')).toEqual({ 'team/api': ['v1'] });
      expect(await searchAt(again.url, 'team')).toEqual({ 'team/api': ['v1', 'v2'], 'team/worker': ['latest'] });
    } finally {
      await again.close();
    }
  });

  it('run while a server takes pushes and deletes, loses none of them and leaves a sound database', async () => {
    const { storage, config, dir } = await setUp();
    const server = await startStowageProcess({ rootdirectory: storage });
    try {
      const digests: Record<string, string> = {};
      const expected: Record<string, string[]> = {};
      for (let i = 0; i < 12; i++) {
        digests[`busy/r${i}`] = await pushImageTo(server.url, `busy/r${i}`, 'before');
        expected[`busy/r${i}`] = ['before'];
      }
      // pushes and deletes go on for as long as the command runs (and a few rounds at least)
      let running = true;
      const result = reindex(config, dir).finally(() => {
        running = false;
      });
      for (let round = 0; (running || round < 4) && round < 400; round++) {
        const name = `busy/r${round % 12}`;
        await pushImageTo(server.url, name, `during-${round}`);
        expected[name]!.push(`during-${round}`);
        if (round < 12 && round % 3 === 0) {
          expect(await deleteManifestAt(server.url, name, digests[name]!)).toBe(202);
          expected[name] = expected[name]!.filter((tag) => tag !== 'before');
        }
      }
      expect((await result).code, (await result).stderr).toBe(0);
      for (const tags of Object.values(expected)) tags.sort();
      expect(await searchAt(server.url, 'busy/')).toEqual(expected);

      const check = new Database(path.join(storage, 'stowage-search.sqlite'), { readonly: true });
      try {
        expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        check.close();
      }
    } finally {
      await server.close();
    }
  });

  it('with a memory index, says there is nothing to rebuild', async () => {
    const { config, dir } = await setUp(['search:', '  backend: memory']);
    const result = await reindex(config, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the search index is kept in memory');
  });
});

describe('stowage search reindex on PostgreSQL', () => {
  let postgres: RunningPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 180_000);
  afterAll(async () => postgres?.close());

  it('rebuilds the shared index from storage, removing what storage no longer holds, and never prints the password', async () => {
    const searchLines = ['search:', '  backend: postgres', `  url: ${postgres.url}`];
    const { storage, config, dir } = await setUp(searchLines);
    const server = await startStowageProcess({ rootdirectory: storage, topLevelLines: searchLines });
    try {
      await pushImageTo(server.url, 'pg/alpha', 'one');
      await pushImageTo(server.url, 'pg/beta', 'two');
    } finally {
      await server.close();
    }
    // storage loses a repository behind the index's back (a restore from an older backup, say)
    await rm(path.join(storage, 'docker', 'registry', 'v2', 'repositories', 'pg', 'beta'), { recursive: true });
    const result = await reindex(config, dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('search index rebuilt: 1 repositories\n');
    expect(`${result.stdout}${result.stderr}`).not.toContain(postgres.password);
    expect(result.stderr).toContain('*****');
    const again = await startStowageProcess({ rootdirectory: storage, topLevelLines: searchLines });
    try {
      expect(await searchAt(again.url, 'pg/')).toEqual({ 'pg/alpha': ['one'] });
    } finally {
      await again.close();
    }
  });
});
