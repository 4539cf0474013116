/**
 * The `search` section and the seeds' `search_backend: sqlalchemy` + `sqlalchemy_index_database`: which index
 * a configuration gets, where its file is, and a precise refusal for what stowage cannot use.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

async function load(text: string, env: Record<string, string> = {}) {
  const cwd = await workdir({ 'config.yml': text });
  return { cwd, file: path.join(cwd, 'config.yml'), result: loadConfig({ cwd, configFile: 'config.yml', env }) };
}

async function seed(lines: string[], env: Record<string, string> = {}) {
  const cwd = await workdir({ 'config.yml': ['dev:', '  storage: local', '  storage_path: /srv/registry', ...lines.map((line) => `  ${line}`), ''].join('\n') });
  return { cwd, file: path.join(cwd, 'config.yml'), result: loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'dev', ...env } }) };
}

describe('the search section', () => {
  it('defaults to an SQLite file in the filesystem driver\'s root directory', async () => {
    const { cwd, result } = await load('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: data\n');
    expect((await result).search).toEqual({ backend: 'sqlite', path: path.join(cwd, 'data', 'stowage-search.sqlite'), pathFrom: 'storage root' });
  });

  it('keeps the index in memory on a driver with no local root, unless search.path names a file', async () => {
    expect((await (await load('version: 0.1\nstorage:\n  inmemory: {}\n')).result).search).toEqual({ backend: 'memory' });
    const { cwd, result } = await load('version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  path: idx/search.db\n');
    expect((await result).search).toEqual({ backend: 'sqlite', path: path.join(cwd, 'idx', 'search.db'), pathFrom: 'search.path' });
  });

  it('selects postgres with a url, memory and none', async () => {
    const url = 'postgresql://stowage:hunter2@db.example:5432/registry';
    expect((await (await load(`version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  backend: postgres\n  url: ${url}\n`)).result).search).toEqual({ backend: 'postgres', url });
    expect((await (await load('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv\nsearch:\n  backend: none\n')).result).search).toEqual({ backend: 'none' });
    expect((await (await load('version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv\nsearch:\n  backend: memory\n')).result).search).toEqual({ backend: 'memory' });
  });

  it('refuses postgres without a url, an unknown backend, and a url that is not PostgreSQL without showing its password', async () => {
    const noUrl = await load('version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  backend: postgres\n');
    expectIssue(await configErrorOf(noUrl.result), noUrl.file, 'search.url', 'required');
    const unknown = await load('version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  backend: elastic\n');
    expectIssue(await configErrorOf(unknown.result), unknown.file, 'search.backend', 'sqlite, postgres, memory, none');
    const mysql = await load('version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  backend: postgres\n  url: mysql://root:hunter2@db/registry\n');
    const error = await configErrorOf(mysql.result);
    expectIssue(error, mysql.file, 'search.url', 'PostgreSQL connection string');
    expect(error.message).not.toContain('hunter2');
  });

  it('warns that backend sqlite without search.path keeps the index in memory on a remote driver', async () => {
    const config = await (await load('version: 0.1\nstorage:\n  inmemory: {}\nsearch:\n  backend: sqlite\n')).result;
    expect(config.search).toEqual({ backend: 'memory' });
    expect(config.warnings?.find((w) => w.path === 'search.backend')?.message).toContain('needs search.path');
  });
});

describe("the seeds' search_backend and sqlalchemy_index_database", () => {
  it('sqlite:////absolute is that file, sqlite:///relative is relative to the config file', async () => {
    const absolute = await seed(['search_backend: sqlalchemy', 'sqlalchemy_index_database: sqlite:////var/lib/registry/index.db']);
    expect((await absolute.result).search).toEqual({ backend: 'sqlite', path: '/var/lib/registry/index.db', pathFrom: 'search.path' });
    const relative = await seed(['search_backend: sqlalchemy', 'sqlalchemy_index_database: sqlite:///index/search.db']);
    expect((await relative.result).search).toEqual({ backend: 'sqlite', path: path.join(relative.cwd, 'index', 'search.db'), pathFrom: 'search.path' });
    expect((await relative.result).warnings?.map((w) => w.path)).not.toContain('dev.search_backend');
  });

  it('postgresql:// and postgresql+psycopg2:// select PostgreSQL, from _env: too', async () => {
    const plain = await seed(['search_backend: _env:SEARCH_BACKEND', 'sqlalchemy_index_database: _env:SQLALCHEMY_INDEX_DATABASE'], {
      SEARCH_BACKEND: 'sqlalchemy',
      SQLALCHEMY_INDEX_DATABASE: 'postgresql://u:p@db/registry',
    });
    expect((await plain.result).search).toEqual({ backend: 'postgres', url: 'postgresql://u:p@db/registry' });
    const psycopg = await seed(['search_backend: sqlalchemy', 'sqlalchemy_index_database: postgresql+psycopg2://u:p@db:5433/registry']);
    expect((await psycopg.result).search).toEqual({ backend: 'postgres', url: 'postgresql://u:p@db:5433/registry' });
  });

  it('the sample config (search_backend unset, the database defaulted) leaves stowage\'s default', async () => {
    const sample = await seed(['search_backend: _env:SEARCH_BACKEND', 'sqlalchemy_index_database: _env:SQLALCHEMY_INDEX_DATABASE:sqlite:////tmp/docker-registry.db']);
    const config = await sample.result;
    expect(config.search).toEqual({ backend: 'sqlite', path: '/srv/registry/stowage-search.sqlite', pathFrom: 'storage root' });
    expect(config.warnings?.map((w) => w.path)).toEqual([]);
  });

  it('refuses mysql:// and any backend but sqlalchemy at startup, naming the key and not the password', async () => {
    const mysql = await seed(['search_backend: sqlalchemy', 'sqlalchemy_index_database: mysql://root:hunter2@db/registry']);
    const error = await configErrorOf(mysql.result);
    expectIssue(error, mysql.file, 'dev.sqlalchemy_index_database', 'the "mysql" database is not supported for search', 'postgresql://');
    expect(error.message).not.toContain('hunter2');
    const other = await seed(['search_backend: elasticsearch']);
    expectIssue(await configErrorOf(other.result), other.file, 'dev.search_backend', 'expected "sqlalchemy"');
  });
});
