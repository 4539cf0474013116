import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nameOfJournalEntry } from '../../src/registry/catalog-index.js';
import { Registry } from '../../src/registry/index.js';
import { createFilesystemDriver, createInMemoryDriver } from '../support/stowage.js';

const repositories = '/docker/registry/v2/repositories';
const digest = `sha256:${'a'.repeat(64)}`;

type Driver = Awaited<ReturnType<typeof createInMemoryDriver>>;

/** A repository as distribution stores it: a folder with `_manifests` (here one tag's link). */
async function addRepository(driver: Driver, name: string): Promise<void> {
  await driver.putContent(`${repositories}/${name}/_manifests/tags/latest/current/link`, Buffer.from(digest));
}

/** A push through the registry: an empty image index, which needs no blobs. */
async function pushIndex(registry: Registry, name: string): Promise<void> {
  const index = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
  await registry.putManifest(name, 'latest', Buffer.from(index), 'application/vnd.oci.image.index.v1+json');
}

/** A folder with blob links but no manifests: not in the catalog. */
async function addFolderWithoutManifests(driver: Driver, name: string): Promise<void> {
  await driver.putContent(`${repositories}/${name}/_layers/sha256/${'b'.repeat(64)}/link`, Buffer.from(digest));
}

/** The reference: every repository, in plain code-unit order, then the page after `last`. */
function naivePage(all: readonly string[], n: number, last: string | undefined): { entries: string[]; next?: string } {
  const after = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((name) => last === undefined || name > last);
  if (after.length <= n) return { entries: after };
  const entries = after.slice(0, n);
  return { entries, next: entries[entries.length - 1] };
}

// Components chosen so that separators sorting before `/` (`-`, `.`) and after it (`_`) meet nesting.
const component = fc.constantFrom('a', 'b', 'ab', 'a-b', 'a.b', 'a_b', 'a--b', 'b0', '0');
const repositoryName = fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

describe('catalog paging over nested repository names', () => {
  it('any page, after any `last` (every stored name, and names that are not stored), equals the page of a full sorted listing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(repositoryName, { maxLength: 14 }),
        fc.uniqueArray(repositoryName, { maxLength: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
        async (names, withoutManifests, n, arbitraryLasts) => {
          const driver = await createInMemoryDriver();
          const registry = new Registry({ driver, deleteEnabled: true });
          for (const name of names) await addRepository(driver, name);
          for (const name of withoutManifests) if (!names.includes(name)) await addFolderWithoutManifests(driver, name);
          const stored = names;

          // walked on storage without an index, then read from the index a walk built
          for (const indexed of [false, true]) {
            if (indexed) await registry.prepareCatalogIndex();
            for (const last of [undefined, ...stored, ...withoutManifests, ...arbitraryLasts]) {
              expect(await registry.catalog({ n, last })).toEqual(naivePage(stored, n, last));
            }
          }

          // following `next` from the start visits every repository once, in order
          const walked: string[] = [];
          let last: string | undefined;
          for (;;) {
            const page = await registry.catalog({ n, last });
            walked.push(...page.entries);
            if (page.next === undefined) break;
            last = page.next;
          }
          expect(walked).toEqual(naivePage(stored, stored.length + 1, undefined).entries);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('another registry sharing the storage sees a repository as soon as it is pushed, and no longer once its folder is removed', async () => {
    const driver = await createInMemoryDriver();
    const one = new Registry({ driver, deleteEnabled: true });
    const other = new Registry({ driver, deleteEnabled: true });
    await one.prepareCatalogIndex();
    await pushIndex(one, 'x/one');
    expect(await one.catalog({ n: 10 })).toEqual({ entries: ['x/one'] });
    await pushIndex(one, 'x/two');
    expect(await other.catalog({ n: 10 })).toEqual({ entries: ['x/one', 'x/two'] });
    // registry:2 deletes a repository by removing its folder by hand
    await driver.delete(`${repositories}/x/one`);
    expect(await one.catalog({ n: 10 })).toEqual({ entries: ['x/two'] });
    await pushIndex(other, 'x/one');
    expect(await one.catalog({ n: 10 })).toEqual({ entries: ['x/one', 'x/two'] });
  });

  it('storage without an index (registry:2 wrote it) is walked until one is built; what is written behind its back later shows after a rebuild', async () => {
    const driver = await createInMemoryDriver();
    await addRepository(driver, 'old/a');
    await addFolderWithoutManifests(driver, 'old/blobs-only');
    const registry = new Registry({ driver, deleteEnabled: true });
    expect(await registry.catalog({ n: 10 })).toEqual({ entries: ['old/a'] });
    expect(await registry.prepareCatalogIndex()).toBe(true);
    expect(await registry.prepareCatalogIndex()).toBe(false);
    expect(await registry.catalog({ n: 10 })).toEqual({ entries: ['old/a'] });
    await addRepository(driver, 'old/b');
    expect(await registry.catalog({ n: 10 })).toEqual({ entries: ['old/a'] });
    await registry.rebuildCatalogIndex();
    expect(await registry.catalog({ n: 10 })).toEqual({ entries: ['old/a', 'old/b'] });
    // a registry in another process that never loaded the old base reads the new one
    expect(await new Registry({ driver, deleteEnabled: true }).catalog({ n: 1, last: 'old/a' })).toEqual({ entries: ['old/b'] });
  });

  it('a base edited by hand (out of order, repeated, blank lines) is read in order, each name once', async () => {
    const driver = await createInMemoryDriver();
    for (const name of ['m/a', 'm/b', 'm/c']) await addRepository(driver, name);
    const writer = new Registry({ driver, deleteEnabled: true });
    await writer.prepareCatalogIndex();
    const [base] = await driver.list('/_stowage/catalog/base');
    await driver.putContent(base!, Buffer.from('m/c\n\nm/a\nm/c\nm/b\n'));
    const reader = new Registry({ driver, deleteEnabled: true });
    expect(await reader.catalog({ n: 10 })).toEqual({ entries: ['m/a', 'm/b', 'm/c'] });
    expect(await reader.catalog({ n: 1, last: 'm/a' })).toEqual({ entries: ['m/b'], next: 'm/b' });
  });

  it('a base is named by its digest, and one whose content no longer matches it (or named as an older stowage named bases) is read through', async () => {
    const driver = await createInMemoryDriver();
    for (const name of ['m/a', 'm/b', 'm/c', 'm/d']) await addRepository(driver, name);
    await new Registry({ driver, deleteEnabled: true }).prepareCatalogIndex();
    const [base] = await driver.list('/_stowage/catalog/base');
    const content = Buffer.from(await driver.getContent(base!));
    expect(path.posix.basename(base!)).toMatch(new RegExp(`^[0-9a-z]+-${createHash('sha256').update(content).digest('hex')}$`));
    // edited by hand: names in order, but a search that trusted the text would step onto the lines out of place
    await driver.putContent(base!, Buffer.from('m/d\nm/c\nm/b\nm/a'));
    expect(await new Registry({ driver, deleteEnabled: true }).catalog({ n: 2, last: 'm/a' })).toEqual({ entries: ['m/b', 'm/c'], next: 'm/c' });
    // a base an older stowage wrote, named by a random UUID, out of order by hand
    await driver.putContent('/_stowage/catalog/base/mabc-1b4e28ba-2fa1-11d2-883f-0016d3cca427', Buffer.from('m/c\nm/a\nm/b\nm/d'));
    await driver.putContent('/_stowage/catalog/current', Buffer.from('mabc-1b4e28ba-2fa1-11d2-883f-0016d3cca427'));
    expect(await new Registry({ driver, deleteEnabled: true }).catalog({ n: 2, last: 'm/b' })).toEqual({ entries: ['m/c', 'm/d'] });
  });

  it('a catalog page writes nothing, and a read-only registry builds no index', async () => {
    const driver = await createInMemoryDriver();
    await addRepository(driver, 'ro/a');
    expect(await new Registry({ driver, deleteEnabled: true }).catalog({ n: 10 })).toEqual({ entries: ['ro/a'] });
    const registry = new Registry({ driver, deleteEnabled: true, readOnly: true });
    expect(await registry.prepareCatalogIndex()).toBe(false);
    expect(await registry.catalog({ n: 10 })).toEqual({ entries: ['ro/a'] });
    expect(await driver.list('/')).toEqual(['/docker']);
  });
});

describe('catalog index shared by two registries on one folder', () => {
  // create: a push through either registry; remove: the folder deleted by hand (registry:2's repository delete)
  const operation = fc.record({ kind: fc.constantFrom('create', 'create', 'remove'), name: repositoryName, through: fc.constantFrom(0, 1) });
  const walkRequest = fc.record({ n: fc.integer({ min: 1, max: 5 }), last: fc.option(fc.oneof(repositoryName, fc.string({ maxLength: 4 })), { nil: undefined }) });

  it('after any creates and removals through either, every page walk from any `last` equals the sorted truth: no duplicates, no gaps', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-index-'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.tuple(operation, walkRequest), { minLength: 1, maxLength: 10 }), fc.boolean(), fc.boolean(), async (steps, withIndex, rebuildHalfway) => {
          const driver = await createFilesystemDriver(path.join(root, String(run++)));
          const registries = [new Registry({ driver, deleteEnabled: true }), new Registry({ driver, deleteEnabled: true })];
          // as `stowage serve` does at start; without it, pages walk the tree
          if (withIndex) await registries[0]!.prepareCatalogIndex();
          const truth = new Set<string>();
          for (const [index, [step, request]] of steps.entries()) {
            if (step.kind === 'create') {
              await pushIndex(registries[step.through]!, step.name);
              truth.add(step.name);
            } else {
              await driver.delete(`${repositories}/${step.name}`).catch(() => undefined);
              // removing a folder removes every repository below it too
              for (const name of truth) if (name === step.name || name.startsWith(`${step.name}/`)) truth.delete(name);
            }
            if (rebuildHalfway && index === steps.length >> 1) await registries[1 - step.through]!.rebuildCatalogIndex();
            const reader = registries[(index + step.through) % 2]!;
            const expected = naivePage([...truth], truth.size + 1, request.last).entries;
            const walked: string[] = [];
            let last = request.last;
            for (;;) {
              const page = await reader.catalog({ n: request.n, ...(last !== undefined ? { last } : {}) });
              expect(page.entries.length).toBeLessThanOrEqual(request.n);
              walked.push(...page.entries);
              if (page.next === undefined) break;
              last = page.next;
            }
            expect(walked).toEqual(expected);
          }
        }),
        { numRuns: 25 },
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a repository removed by hand whose folder a push below it made again is no longer listed, whether the base or the journal names it', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-namespace-'));
    try {
      for (const [run, inBase] of [false, true].entries()) {
        const driver = await createFilesystemDriver(path.join(root, String(run)));
        const registry = new Registry({ driver, deleteEnabled: true });
        await registry.prepareCatalogIndex();
        await pushIndex(registry, 'b');
        await pushIndex(registry, 'b-c');
        if (inBase) await registry.rebuildCatalogIndex();
        await driver.delete(`${repositories}/b`);
        await pushIndex(registry, 'b/a');
        expect((await registry.catalog({ n: 10 })).entries).toEqual(['b-c', 'b/a']);
        expect((await registry.catalog({ n: 1 })).entries).toEqual(['b-c']);
        // a push of the repository itself lists it again
        await pushIndex(registry, 'b');
        expect((await registry.catalog({ n: 10 })).entries).toEqual(['b', 'b-c', 'b/a']);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('the same when the repository below sorts past the first listing of the journal a page reads', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-namespace-far-'));
    try {
      const driver = await createFilesystemDriver(root);
      const registry = new Registry({ driver, deleteEnabled: true });
      await registry.prepareCatalogIndex();
      await pushIndex(registry, 'b');
      // names sorting between `b` and `b/a` (`-` sorts before `/`), more than one listing of the journal holds
      const between = Array.from({ length: 300 }, (_, i) => `b-${String(i).padStart(3, '0')}`);
      for (const name of between) await pushIndex(registry, name);
      await driver.delete(`${repositories}/b`);
      await pushIndex(registry, 'b/a');
      expect((await registry.catalog({ n: 2 })).entries).toEqual(between.slice(0, 2));
      expect((await registry.catalog({ n: 1000 })).entries).toEqual([...between, 'b/a']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('a repository removed by hand, dropped by a reconcile and pushed again through the registry that first pushed it is listed at once', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-repush-'));
    try {
      const driver = await createFilesystemDriver(root);
      const registry = new Registry({ driver, deleteEnabled: true });
      await registry.prepareCatalogIndex();
      await pushIndex(registry, 'again/app');
      expect(await driver.list('/_stowage/catalog/journal')).toEqual(['/_stowage/catalog/journal/again0app']);
      await driver.delete(`${repositories}/again`);
      await registry.reconcileCatalogIndex();
      expect(await driver.list('/_stowage/catalog/journal')).toEqual([]);
      expect((await registry.catalog({ n: 10 })).entries).toEqual([]);
      // this registry remembers having indexed the name: the new base tells it the memory is stale
      await pushIndex(registry, 'again/app');
      expect(await driver.list('/_stowage/catalog/journal')).toEqual(['/_stowage/catalog/journal/again0app']);
      expect((await registry.catalog({ n: 10 })).entries).toEqual(['again/app']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  // what the reconcile (`serve` every storage.maintenance.catalog.interval) must converge on: repositories
  // written behind stowage's back, folders deleted by hand or re-created holding blobs only
  const change = fc.record({
    kind: fc.constantFrom('push', 'push', 'by-hand', 'remove', 'blobs-only', 'reconcile'),
    // few names, so that one is pushed, removed and pushed again around a reconcile
    name: fc.constantFrom('a', 'b', 'a/b', 'a-b', 'a/b/c'),
    through: fc.constantFrom(0, 1),
  });

  it('after any pushes, repositories written or removed by hand, and folders left with blobs only, a reconcile through either lists exactly what storage holds; a push is listed at once', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-catalog-reconcile-'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), async (changes, n) => {
          const driver = await createFilesystemDriver(path.join(root, String(run++)));
          const registries = [new Registry({ driver, deleteEnabled: true }), new Registry({ driver, deleteEnabled: true })];
          await registries[0]!.prepareCatalogIndex();
          const truth = new Set<string>();
          const listedBy = async (reader: Registry): Promise<string[]> => {
            const walked: string[] = [];
            let last: string | undefined;
            for (;;) {
              const page = await reader.catalog({ n, ...(last !== undefined ? { last } : {}) });
              walked.push(...page.entries);
              if (page.next === undefined) return walked;
              last = page.next;
            }
          };
          const removeBelow = (name: string): void => {
            for (const held of truth) if (held === name || held.startsWith(`${name}/`)) truth.delete(held);
          };
          for (const step of changes) {
            const registry = registries[step.through]!;
            if (step.kind === 'push') {
              await pushIndex(registry, step.name);
              truth.add(step.name);
              // whichever registry reads, whatever was pruned from the index before
              expect(await listedBy(registries[1 - step.through]!)).toContain(step.name);
            } else if (step.kind === 'by-hand') {
              await addRepository(driver, step.name);
              truth.add(step.name);
            } else if (step.kind === 'remove' || step.kind === 'blobs-only') {
              await driver.delete(`${repositories}/${step.name}`).catch(() => undefined);
              removeBelow(step.name);
              if (step.kind === 'blobs-only') await addFolderWithoutManifests(driver, step.name);
            } else {
              await registry.reconcileCatalogIndex();
              for (const reader of registries) expect(await listedBy(reader)).toEqual(naivePage([...truth], truth.size + 1, undefined).entries);
            }
          }
          await registries[1]!.reconcileCatalogIndex();
          for (const reader of registries) expect(await listedBy(reader)).toEqual(naivePage([...truth], truth.size + 1, undefined).entries);
          // the journal keeps no name of a folder without manifests
          const journal = (await driver.list('/_stowage/catalog/journal').catch(() => [])).map((entry) => entry.slice(entry.lastIndexOf('/') + 1));
          for (const entry of journal) expect(truth.has(nameOfJournalEntry(entry)), `journal entry ${entry}`).toBe(true);
        }),
        { numRuns: 40 },
      );
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
