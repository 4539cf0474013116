import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { imageManifest, sha256 } from '../support/push-by-url.js';
import { storeBlob } from '../support/push-in-process.js';
import { createFilesystemDriver, createInMemoryDriver } from '../support/stowage.js';

const tagsOf = '/docker/registry/v2/repositories/app/_manifests/tags';
const linked = `sha256:${'a'.repeat(64)}`;

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

async function freshFilesystemDriver(): Promise<StorageDriver> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-tags-'));
  roots.push(root);
  return createFilesystemDriver(root);
}

const drivers: [string, () => Promise<StorageDriver>][] = [
  ['inmemory', createInMemoryDriver],
  ['filesystem', freshFilesystemDriver],
];

/** The reference: every tag in plain code-unit order, then the page after `last`. */
function naivePage(all: readonly string[], n: number | undefined, last: string | undefined): { entries: string[]; next?: string } {
  const after = [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((tag) => last === undefined || tag > last);
  if (n === undefined || after.length <= n) return { entries: after };
  const entries = after.slice(0, n);
  return { entries, next: entries[entries.length - 1] };
}

// the tag grammar's characters, with those that sort around digits and letters (`-`, `.`, `_`) made likely
const tagName = fc
  .tuple(fc.constantFrom('a', 'B', 'z', '0', '9', '_'), fc.array(fc.constantFrom('a', 'b', 'Z', '1', '-', '.', '_'), { maxLength: 5 }))
  .map(([first, rest]) => first + rest.join(''));

describe.each(drivers)('tag pages (%s)', (driverName, createDriver) => {
  it('any page, after any `last`, equals the page of a full sorted listing, and following `next` visits every tag once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(tagName, { maxLength: 25 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
        async (tags, n, arbitraryLasts) => {
          const driver = await createDriver();
          const registry = new Registry({ driver: wrapDriver(driver), deleteEnabled: true });
          // the repository exists (an empty tag list is an answer, not NAME_UNKNOWN)
          await driver.putContent('/docker/registry/v2/repositories/app/_layers/sha256/aa/link', Buffer.from(linked));
          for (const tag of tags) await driver.putContent(`${tagsOf}/${tag}/current/link`, Buffer.from(linked));

          for (const last of [undefined, ...tags, ...arbitraryLasts]) expect(await registry.listTags('app', { n, last })).toEqual(naivePage(tags, n, last));

          const walked: string[] = [];
          let last: string | undefined;
          for (;;) {
            const page = await registry.listTags('app', { n: n ?? 2, last });
            walked.push(...page.entries);
            if (page.next === undefined) break;
            last = page.next;
          }
          expect(walked).toEqual(naivePage(tags, undefined, undefined).entries);
        },
      ),
      // a filesystem run writes real folders: fewer of them
      { numRuns: driverName === 'filesystem' ? 15 : 60 },
    );
  });
});

/** The driver, except that its storage writes stop (throw) after the first `writes`, as a process killed between two writes. */
function stoppingAfter(driver: StorageDriver, writes: number): { driver: StorageDriver; stopped: () => boolean } {
  let left = writes;
  const write =
    <A extends unknown[]>(call: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      if (left <= 0) throw new Error('stopped');
      left -= 1;
      await call(...args);
    };
  const wrapped: StorageDriver = {
    name: driver.name,
    getContent: driver.getContent.bind(driver),
    reader: driver.reader.bind(driver),
    writer: driver.writer.bind(driver),
    uploadSize: driver.uploadSize.bind(driver),
    stat: driver.stat.bind(driver),
    list: driver.list.bind(driver),
    putContent: write(driver.putContent.bind(driver)),
    move: write(driver.move.bind(driver)),
    delete: write(driver.delete.bind(driver)),
  };
  return { driver: wrapped, stopped: () => left <= 0 };
}

interface Image {
  readonly content: Buffer;
  readonly digest: string;
}

/** Blobs pushed (before any stop), and three manifests using them. */
async function pushBlobs(registry: Registry): Promise<Image[]> {
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const layer = Buffer.from('layer bytes');
  for (const blob of [config, layer]) await storeBlob(registry, 'app', blob);
  return ['one', 'two', 'three'].map((note) => {
    const content = imageManifest(config, [layer], { note });
    return { content, digest: sha256(content) };
  });
}

/** Tag pushes, a tag moved, a tag deleted, manifests deleted with the tags naming them; the tags left at the end. */
async function tagHistory(registry: Registry, [one, two, three]: Image[]): Promise<string[]> {
  const type = 'application/vnd.oci.image.manifest.v1+json';
  await registry.putManifest('app', 'keep', one!.content, type);
  await registry.putManifest('app', 'a', two!.content, type);
  await registry.putManifest('app', 'b', two!.content, type);
  await registry.putManifest('app', 'c', two!.content, type);
  await registry.putManifest('app', 'a', three!.content, type);
  await registry.deleteManifest('app', 'b');
  await registry.deleteManifest('app', two!.digest);
  await registry.deleteManifest('app', three!.digest);
  return ['keep'];
}

describe.each(drivers)('tag listing when the registry stops between two storage writes (%s)', (_, createDriver) => {
  it('after a stop at any write of pushes, moves and deletes, every listed tag resolves to its manifest', async () => {
    const reference = new Registry({ driver: wrapDriver(await createDriver()), deleteEnabled: true });
    expect(await tagHistory(reference, await pushBlobs(reference))).toEqual((await reference.listTags('app', {})).entries);

    let stops = 0;
    for (let writes = 0; ; writes++) {
      const driver = wrapDriver(await createDriver());
      const images = await pushBlobs(new Registry({ driver, deleteEnabled: true }));
      const stopping = stoppingAfter(driver, writes);
      const completed = await tagHistory(new Registry({ driver: wrapDriver(stopping.driver), deleteEnabled: true }), images).then(
        () => true,
        (err: unknown) => {
          if (!stopping.stopped()) throw err;
          return false;
        },
      );
      // the process that comes back on the same storage
      const restarted = new Registry({ driver, deleteEnabled: true });
      const { entries } = await restarted.listTags('app', {});
      for (const tag of entries) {
        const manifest = await restarted.getManifest('app', tag);
        expect(images.map((image) => image.digest), `listed tag ${tag} after ${writes} writes`).toContain(manifest.digest);
      }
      if (completed) break;
      stops += 1;
    }
    // the history takes more writes than a handful: each stop point above was a different moment
    expect(stops).toBeGreaterThan(10);
  });
});
