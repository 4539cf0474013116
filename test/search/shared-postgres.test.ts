/**
 * Two `stowage serve` processes on one filesystem storage and one real PostgreSQL (Debian's): a push through
 * one is found by a search through the other at once, and a delete through one is gone from the other. The
 * connection string's password never shows in either process's output.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type RunningPostgres } from '../support/postgres.js';
import { startStowageProcess, type StowageProcess } from '../support/stowage.js';
import { pushImageTo } from '../support/push-by-url.js';
import { deleteManifestAt, searchAt, searchV1At } from './support.js';

describe('two stowage processes sharing storage and a PostgreSQL search index', () => {
  let postgres: RunningPostgres;
  let storage: string;
  let first: StowageProcess;
  let second: StowageProcess;

  beforeAll(async () => {
    postgres = await startPostgres();
    storage = await mkdtemp(path.join(os.tmpdir(), 'stowage-search-shared-'));
    const searchLines = ['search:', '  backend: postgres', `  url: ${postgres.url}`];
    first = await startStowageProcess({ rootdirectory: storage, topLevelLines: searchLines, logLevel: 'debug' });
    second = await startStowageProcess({ rootdirectory: storage, topLevelLines: searchLines, logLevel: 'debug' });
  }, 180_000);

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await postgres?.close();
    if (storage) await rm(storage, { recursive: true, force: true });
  });

  it('finds through one process what was pushed through the other, by name, tag and annotation', async () => {
    await pushImageTo(first.url, 'shared/webapp', 'v1.0', { 'org.opencontainers.image.description': 'the shop front end' });
    expect(await searchAt(second.url, 'webapp')).toEqual({ 'shared/webapp': ['v1.0'] });
    expect(await searchAt(second.url, 'SHOP FRONT')).toEqual({ 'shared/webapp': ['v1.0'] });
    expect(await searchV1At(second.url, 'webapp')).toEqual(['shared/webapp']);
    await pushImageTo(second.url, 'shared/webapp', 'v2.0');
    expect(await searchAt(first.url, 'webapp')).toEqual({ 'shared/webapp': ['v1.0', 'v2.0'] });
  });

  it('indexes the labels of the image config (docker build\'s LABEL), the manifest\'s annotations over them', async () => {
    await pushImageTo(first.url, 'shared/labelled', 'v1', { 'org.opencontainers.image.title': 'from the manifest' }, {
      'org.opencontainers.image.description': 'described by a LABEL',
      maintainer: 'the platform crew',
      'org.opencontainers.image.title': 'from the config',
    });
    expect(await searchAt(second.url, 'platform crew')).toEqual({ 'shared/labelled': ['v1'] });
    expect(await searchAt(second.url, 'from the config')).toEqual({});
    const v1 = (await (await fetch(`${second.url}/v1/search?q=labelled`)).json()) as { results: { name: string; description: string }[] };
    expect(v1.results).toEqual([expect.objectContaining({ name: 'shared/labelled', description: 'described by a LABEL' })]);
  });

  it('a delete through one process is gone from the other', async () => {
    const digest = await pushImageTo(first.url, 'shared/batch', 'nightly');
    expect(await searchAt(second.url, 'nightly')).toEqual({ 'shared/batch': ['nightly'] });
    expect(await deleteManifestAt(second.url, 'shared/batch', digest)).toBe(202);
    expect(await searchAt(first.url, 'nightly')).toEqual({});
    // the repository stays, as in the catalog, with no tag
    expect(await searchAt(first.url, 'shared/batch')).toEqual({ 'shared/batch': [] });
  });

  it('never shows the connection string\'s password, and uses no SQLite file in the storage root', async () => {
    for (const server of [first, second]) {
      expect(server.server.output()).toContain('"index":"postgres"');
      expect(server.server.output()).not.toContain(postgres.password);
    }
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(storage)).filter((name) => name.includes('sqlite'))).toEqual([]);
  });
});
