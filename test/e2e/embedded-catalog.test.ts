/**
 * A registry embedded with `startRegistry` keeps the catalog index as `stowage serve` does: it builds the index
 * at start on storage that has none (here a tree registry:2 wrote), and reconciles it with the tree every
 * `storage.maintenance.catalog.interval`, so a repository registry:2 pushes into the same storage later is
 * listed without a rebuild. With `catalog: false` it keeps none.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../../src/embed.js';
import { createLogger } from '../../src/logger.js';
import { startDistribution } from '../support/distribution.js';
import { pushImageTo } from '../support/push-by-url.js';
import { createFilesystemDriver } from '../support/stowage.js';
import { until } from '../support/until.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function catalogOf(url: string): Promise<string[]> {
  const response = await fetch(`${url}/v2/_catalog?n=1000`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { repositories: string[] }).repositories;
}

describe('the catalog index of an embedded registry', () => {
  it('is built at start and reconciled with the tree, as serve keeps it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-embedded-catalog-'));
    made.push(dir);
    const storage = path.join(dir, 'storage');
    const distribution = await startDistribution({ rootdirectory: storage });
    const logLines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    try {
      await pushImageTo(distribution.url, 'by-registry2/before', 'v1');
      // without upkeep (catalog: false) nothing is built: the pages walk the tree
      const unkept = await startRegistry({ driver: await createFilesystemDriver(storage), deleteEnabled: true, catalog: false });
      try {
        expect(await catalogOf(unkept.url)).toEqual(['by-registry2/before']);
        expect(existsSync(path.join(storage, '_stowage/catalog/current'))).toBe(false);
      } finally {
        await unkept.close();
      }

      const embedded = await startRegistry({ driver: await createFilesystemDriver(storage), deleteEnabled: true, logger, catalog: { interval: '1s' } });
      try {
        // built before startRegistry resolved: the program embedding it finds its storage settled
        expect(existsSync(path.join(storage, '_stowage/catalog/current'))).toBe(true);
        expect(await catalogOf(embedded.url)).toEqual(['by-registry2/before']);

        // registry:2 writes no journal entry: only a reconcile brings its repository into the index
        await pushImageTo(distribution.url, 'by-registry2/after', 'v1');
        await pushImageTo(embedded.url, 'by-stowage/app', 'v1');
        await until('the reconcile to list the repository registry:2 pushed', async () =>
          (await catalogOf(embedded.url)).includes('by-registry2/after') ? true : undefined,
        );
        expect(await catalogOf(embedded.url)).toEqual(['by-registry2/after', 'by-registry2/before', 'by-stowage/app']);
        expect(logLines.some((line) => line.includes('catalog index reconciled'))).toBe(true);
      } finally {
        await embedded.close();
      }
    } finally {
      await distribution.close();
    }
  }, 120_000);
});
