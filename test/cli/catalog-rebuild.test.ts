/**
 * The catalog index on storage stowage did not write: `stowage serve` builds it at start from a walk of a
 * registry:2 tree, repositories added behind its back later are listed after `stowage catalog rebuild`
 * (the running server reads the new base on its next page), and a read-only config is refused.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStowageProcess } from '../support/stowage.js';
import { waitForOutput } from '../support/server-process.js';
import { ensureBuilt, runCli } from './helpers.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});
beforeAll(async () => {
  await ensureBuilt();
}, 300_000);

const digest = `sha256:${'c'.repeat(64)}`;

/** A repository as registry:2 leaves it, written straight into the tree. */
async function writeRepository(storage: string, name: string): Promise<void> {
  const repository = path.join(storage, 'docker/registry/v2/repositories', name);
  await mkdir(path.join(repository, '_manifests/tags/latest/current'), { recursive: true });
  await writeFile(path.join(repository, '_manifests/tags/latest/current/link'), digest);
  await mkdir(path.join(repository, '_layers/sha256', 'c'.repeat(64)), { recursive: true });
  await writeFile(path.join(repository, '_layers/sha256', 'c'.repeat(64), 'link'), digest);
}

async function catalogOf(url: string): Promise<string[]> {
  const response = await request(`${url}/v2/_catalog?n=1000`);
  expect(response.statusCode).toBe(200);
  return ((await response.body.json()) as { repositories: string[] }).repositories;
}

async function setUp(extraStorageLines: string[] = []): Promise<{ storage: string; config: string; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-rebuild-'));
  made.push(dir);
  const storage = path.join(dir, 'storage');
  const config = path.join(dir, 'stowage.config.yaml');
  await writeFile(config, ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(storage)}`, ...extraStorageLines, ''].join('\n'));
  return { storage, config, dir };
}

describe('stowage catalog rebuild', () => {
  it('serve indexes a registry:2 tree at start; what is written behind its back is listed once the command has rebuilt the index', async () => {
    const { storage, config, dir } = await setUp();
    await writeRepository(storage, 'legacy/one');
    await writeRepository(storage, 'legacy/one/nested');
    // no reconcile: this shows what the index holds between reconciles, and the command (catalog-reconcile.test.ts shows the reconcile)
    const server = await startStowageProcess({ rootdirectory: storage, logLevel: 'info', storageLines: ['  maintenance:', '    catalog:', '      interval: 0'] });
    try {
      await waitForOutput(server.server, /catalog index built/, 30_000);
      expect(await catalogOf(server.url)).toEqual(['legacy/one', 'legacy/one/nested']);

      await writeRepository(storage, 'legacy/two');
      // the index knows what stowage pushed and what its last walk found: not this one yet
      expect(await catalogOf(server.url)).toEqual(['legacy/one', 'legacy/one/nested']);
      const result = await runCli(['catalog', 'rebuild', '--config', config], { cwd: dir });
      expect(result.stderr).toContain('rebuilding the catalog index from');
      expect(result.stdout).toBe('catalog index rebuilt: 3 repositories\n');
      expect(result.code).toBe(0);
      expect(await catalogOf(server.url)).toEqual(['legacy/one', 'legacy/one/nested', 'legacy/two']);
    } finally {
      await server.close();
    }
  });

  it('refuses read-only storage, and writes nothing', async () => {
    const { storage, config, dir } = await setUp(['  maintenance:', '    readonly:', '      enabled: true']);
    await writeRepository(storage, 'legacy/one');
    const result = await runCli(['catalog', 'rebuild', '--config', config], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('storage is read-only');
    await expect(stat(path.join(storage, '_stowage'))).rejects.toThrow(/ENOENT/);
  });
});
