/**
 * The catalog index converges on what storage holds without an operator: `serve` reconciles it with the tree
 * every `storage.maintenance.catalog.interval`, so a repository registry:2 pushed into the same storage is
 * listed, and one deleted by hand and re-created with blobs only is dropped (and its journal entry removed).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/helpers.js';
import { startDistribution } from '../support/distribution.js';
import { pushImageTo } from '../support/push-by-url.js';
import type { ServerProcess } from '../support/server-process.js';
import { startStowageProcess } from '../support/stowage.js';

const made: string[] = [];
beforeAll(async () => {
  await ensureBuilt();
}, 300_000);
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

const RECONCILED = /catalog index reconciled/g;
const reconcilesIn = (server: ServerProcess): number => server.output().match(RECONCILED)?.length ?? 0;

/** Waits until the server has finished two more reconciles than `before`: the second started after the caller's change. */
async function twoMoreReconciles(server: ServerProcess, before: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (reconcilesIn(server) < before + 2) {
    if (!server.isRunning()) throw new Error(`stowage exited:\n${server.output()}`);
    if (Date.now() > deadline) throw new Error(`no two reconciles within 60 s:\n${server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function catalogOf(url: string): Promise<string[]> {
  const response = await fetch(`${url}/v2/_catalog?n=1000`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { repositories: string[] }).repositories;
}

describe('the catalog index reconciled with the repository tree', () => {
  it('lists a repository registry:2 pushed into the same storage and drops one removed by hand, without a rebuild', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-reconcile-'));
    made.push(dir);
    const storage = path.join(dir, 'storage');
    await mkdir(storage);
    const stowage = await startStowageProcess({ rootdirectory: storage, logLevel: 'debug', storageLines: ['  maintenance:', '    catalog:', '      interval: 1s'] });
    const distribution = await startDistribution({ rootdirectory: storage });
    try {
      await pushImageTo(stowage.url, 'by-stowage/app', 'v1');
      await pushImageTo(stowage.url, 'by-stowage/kept', 'v1');
      expect(await catalogOf(stowage.url)).toEqual(['by-stowage/app', 'by-stowage/kept']);

      let before = reconcilesIn(stowage.server);
      await pushImageTo(distribution.url, 'by-registry2/app', 'v1');
      await twoMoreReconciles(stowage.server, before);
      expect(await catalogOf(stowage.url)).toEqual(['by-registry2/app', 'by-stowage/app', 'by-stowage/kept']);

      // deleted by hand, as registry:2's operators delete a repository, then re-created holding blobs only
      const repositories = path.join(storage, 'docker/registry/v2/repositories');
      await rm(path.join(repositories, 'by-stowage/app'), { recursive: true });
      await mkdir(path.join(repositories, 'by-stowage/app/_layers/sha256', 'a'.repeat(64)), { recursive: true });
      await writeFile(path.join(repositories, 'by-stowage/app/_layers/sha256', 'a'.repeat(64), 'link'), `sha256:${'a'.repeat(64)}`);
      before = reconcilesIn(stowage.server);
      await twoMoreReconciles(stowage.server, before);
      expect(await catalogOf(stowage.url)).toEqual(['by-registry2/app', 'by-stowage/kept']);
      expect(existsSync(path.join(storage, '_stowage/catalog/journal/by-stowage0app'))).toBe(false);

      // pushed again, it is listed by the push itself, not a later reconcile
      await pushImageTo(stowage.url, 'by-stowage/app', 'v2');
      expect(await catalogOf(stowage.url)).toEqual(['by-registry2/app', 'by-stowage/app', 'by-stowage/kept']);
    } finally {
      await distribution.close();
      await stowage.close();
    }
  }, 180_000);
});
