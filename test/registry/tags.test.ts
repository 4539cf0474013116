import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/index.js';
import { createInMemoryDriver } from '../support/stowage.js';

const tagsOf = '/docker/registry/v2/repositories/app/_manifests/tags';

async function registryWithTags(tags: string[]): Promise<{ registry: Registry; driver: Awaited<ReturnType<typeof createInMemoryDriver>> }> {
  const driver = await createInMemoryDriver();
  const registry = new Registry({ driver, deleteEnabled: true });
  for (const tag of tags) {
    await driver.putContent(`${tagsOf}/${tag}/current/link`, Buffer.from(`sha256:${'a'.repeat(64)}`));
    await driver.putContent(`${tagsOf}/${tag}/index/sha256/${'a'.repeat(64)}/link`, Buffer.from(`sha256:${'a'.repeat(64)}`));
  }
  return { registry, driver };
}

describe('tag listing after an interrupted write or delete', () => {
  it('leaves out a tag folder whose current link is missing (what a crash between the two links leaves)', async () => {
    const { registry, driver } = await registryWithTags(['a', 'b', 'c', 'd']);
    await driver.delete(`${tagsOf}/b/current`);
    expect(await registry.listTags('app', {})).toEqual({ entries: ['a', 'c', 'd'] });
  });

  it('still fills a page of n from the tags that resolve, and says where the next page starts', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const { registry, driver } = await registryWithTags(names);
    for (const broken of ['t00', 't01', 't03', 't10']) await driver.delete(`${tagsOf}/${broken}/current`);
    expect(await registry.listTags('app', { n: 3 })).toEqual({ entries: ['t02', 't04', 't05'], next: 't05' });
    expect(await registry.listTags('app', { n: 5, last: 't05' })).toEqual({ entries: ['t06', 't07', 't08', 't09', 't11'], next: 't11' });
    expect(await registry.listTags('app', { n: 10, last: 't11' })).toEqual({ entries: ['t12', 't13', 't14', 't15', 't16', 't17', 't18', 't19'] });
  });
});
