import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/index.js';
import { createInMemoryDriver } from '../support/stowage.js';

const repositories = '/docker/registry/v2/repositories';
const digest = `sha256:${'a'.repeat(64)}`;

type Driver = Awaited<ReturnType<typeof createInMemoryDriver>>;

/** A repository as distribution stores it: a folder with `_manifests` (here one tag's link). */
async function addRepository(driver: Driver, name: string): Promise<void> {
  await driver.putContent(`${repositories}/${name}/_manifests/tags/latest/current/link`, Buffer.from(digest));
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

          for (const last of [undefined, ...stored, ...withoutManifests, ...arbitraryLasts]) {
            expect(await registry.catalog({ n, last })).toEqual(naivePage(stored, n, last));
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

  it('another registry sharing the storage sees a repository as soon as it is stored, and no longer once removed', async () => {
    const driver = await createInMemoryDriver();
    const one = new Registry({ driver, deleteEnabled: true });
    const other = new Registry({ driver, deleteEnabled: true });
    await addRepository(driver, 'x/one');
    expect(await one.catalog({ n: 10 })).toEqual({ entries: ['x/one'] });
    await addRepository(driver, 'x/two');
    expect(await other.catalog({ n: 10 })).toEqual({ entries: ['x/one', 'x/two'] });
    await driver.delete(`${repositories}/x/one`);
    expect(await one.catalog({ n: 10 })).toEqual({ entries: ['x/two'] });
  });
});
