/**
 * Tag pages of one repository shared by two registries (two processes, as far as their storage can tell:
 * each has its own driver and its own kept listings) on one filesystem folder, with tags also written and
 * removed behind both registries' backs as bench/layout.js, registry:2 or a restore would. Whatever kept
 * listing either registry holds, every page it answers is the page of the tags stored now.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { LISTING_FILE_FROM_BYTES } from '../../plugins/filesystem/src/sorted-listings.js';
import { Registry } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import { settled } from '../support/settled.js';
import { createFilesystemDriver } from '../support/stowage.js';

const manifestType = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (content: Buffer): string => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const bytes = (content: Buffer): AsyncIterable<Uint8Array> => (async function* () {
  yield content;
})();

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

/** The reference: the stored tags in code-unit order, then the page after `last`. */
function truePage(stored: ReadonlySet<string>, n: number | undefined, last: string | undefined): { entries: string[]; next?: string } {
  const after = [...stored].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((tag) => last === undefined || tag > last);
  if (n === undefined || after.length <= n) return { entries: after };
  const entries = after.slice(0, n);
  return { entries, next: entries[entries.length - 1] };
}

/** A manifest whose blobs are pushed, to tag through the registry. */
async function pushImage(registry: Registry): Promise<Buffer> {
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const layer = Buffer.from('layer bytes');
  for (const blob of [config, layer]) {
    const upload = await registry.startUpload('app');
    await registry.finishUpload('app', upload.id, sha256(blob), bytes(blob));
  }
  const content = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
    }),
  );
  await registry.putManifest('app', 'first', content, manifestType);
  return content;
}

// the tag grammar's characters, with those that sort around digits and letters (`-`, `.`, `_`) made likely
const tagName = fc
  .tuple(fc.constantFrom('a', 'B', 'z', '0', '9', '_'), fc.array(fc.constantFrom('a', 'b', 'Z', '1', '-', '.', '_'), { maxLength: 4 }))
  .map(([first, rest]) => first + rest.join(''));

type Step =
  | { readonly kind: 'push' | 'delete'; readonly through: 0 | 1; readonly tag: string }
  | { readonly kind: 'write behind' | 'remove behind'; readonly tag: string }
  /** waits until the folder's times are settled, so that the next read of it is kept */
  | { readonly kind: 'settle' }
  | { readonly kind: 'pages'; readonly through: 0 | 1; readonly n: number | undefined; readonly last: string | undefined };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constantFrom('push' as const, 'delete' as const), through: fc.constantFrom(0 as const, 1 as const), tag: tagName }),
  fc.record({ kind: fc.constantFrom('write behind' as const, 'remove behind' as const), tag: tagName }),
  fc.constant({ kind: 'settle' as const }),
  fc.record({
    kind: fc.constant('pages' as const),
    through: fc.constantFrom(0 as const, 1 as const),
    n: fc.option(fc.integer({ min: 1, max: 150 }), { nil: undefined }),
    last: fc.option(fc.oneof(tagName, fc.string({ maxLength: 3 })), { nil: undefined }),
  }),
);

describe('tag pages of a repository two registries and plain file writes share', () => {
  it('every page either registry answers, after any pushes, deletes and writes behind its back, is the page of the tags stored now', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 700 }), fc.array(step, { minLength: 1, maxLength: 14 }), async (seeded, steps) => {
        const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-shared-tags-'));
        roots.push(root);
        const registries = [new Registry({ driver: wrapDriver(await createFilesystemDriver(root)), deleteEnabled: true }), new Registry({ driver: wrapDriver(await createFilesystemDriver(root)), deleteEnabled: true })] as const;
        const manifest = await pushImage(registries[0]);
        const tagsFolder = path.join(root, 'docker/registry/v2/repositories/app/_manifests/tags');
        const digest = sha256(manifest);
        const stored = new Set(['first']);
        // as bench/layout.js writes a tag: the tag's folder and its current link, no index entry
        const writeBehind = async (tag: string) => {
          await mkdir(path.join(tagsFolder, tag, 'current'), { recursive: true });
          await writeFile(path.join(tagsFolder, tag, 'current', 'link'), digest);
          stored.add(tag);
        };
        // hundreds of tags, so that kept listings are partitioned rather than sorted whole
        for (let i = 0; i < seeded; i++) await writeBehind(`s${String((i * 7) % seeded).padStart(3, '0')}`);

        for (const next of steps) {
          if (next.kind === 'pages') {
            const registry = registries[next.through];
            expect(await registry.listTags('app', { n: next.n, last: next.last })).toEqual(truePage(stored, next.n, next.last));
            // and a walk from there, following `next`, meets every later tag once, in order
            const walked: string[] = [];
            let last = next.last;
            for (;;) {
              const page = await registry.listTags('app', { n: next.n ?? 100, last });
              walked.push(...page.entries);
              if (page.next === undefined) break;
              last = page.next;
            }
            expect(walked).toEqual(truePage(stored, undefined, next.last).entries);
          } else if (next.kind === 'settle') {
            await settled(tagsFolder);
          } else if (next.kind === 'push' || next.kind === 'delete') {
            if (next.kind === 'push') {
              await registries[next.through].putManifest('app', next.tag, manifest, manifestType);
              stored.add(next.tag);
            } else if (stored.has(next.tag)) {
              await registries[next.through].deleteManifest('app', next.tag);
              stored.delete(next.tag);
            }
          } else if (next.kind === 'write behind') {
            await writeBehind(next.tag);
          } else {
            await rm(path.join(tagsFolder, next.tag), { recursive: true, force: true });
            stored.delete(next.tag);
          }
        }
        // what both answer at the end, whatever they kept
        for (const registry of registries) expect(await registry.listTags('app', { n: 50, last: 's2' })).toEqual(truePage(stored, 50, 's2'));
      }),
      { numRuns: 12 },
    );
  }, 120_000);
  it('after `stowage catalog rebuild` wrote a large tags folder\'s listing file, a registry holding nothing pages from it, and every registry sees pushes, deletes and writes behind its back made since', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-shared-tags-'));
    roots.push(root);
    const fresh = async (): Promise<Registry> => new Registry({ driver: wrapDriver(await createFilesystemDriver(root)), deleteEnabled: true });
    const [writer, reader] = [await fresh(), await fresh()];
    const manifest = await pushImage(writer);
    const tagsFolder = path.join(root, 'docker/registry/v2/repositories/app/_manifests/tags');
    const stored = new Set(['first']);
    const writeBehind = async (tag: string) => {
      await mkdir(path.join(tagsFolder, tag, 'current'), { recursive: true });
      await writeFile(path.join(tagsFolder, tag, 'current', 'link'), sha256(manifest));
      stored.add(tag);
    };
    // enough tags for the folder to get a listing file (sorted-listings.ts LISTING_FILE_FROM_BYTES)
    for (let i = 0; (await stat(tagsFolder)).size < LISTING_FILE_FROM_BYTES; i += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, j) => writeBehind(`t${String(((i + j) * 7919) % 100_000).padStart(5, '0')}`)));
    }
    await settled(tagsFolder);
    await writer.rebuildCatalogIndex({ tagListings: true });
    const listingFile = `${tagsFolder}~listing`;
    expect((await readFile(listingFile, 'utf8')).split('\n').length).toBe(stored.size + 2);

    expect(await (await fresh()).listTags('app', { n: 100, last: 't50000' })).toEqual(truePage(stored, 100, 't50000'));
    // the reader keeps the file's listing, then each change comes from elsewhere
    expect(await reader.listTags('app', { n: 100 })).toEqual(truePage(stored, 100, undefined));
    await writer.putManifest('app', 't50000a', manifest, manifestType);
    stored.add('t50000a');
    expect(await reader.listTags('app', { n: 100, last: 't50000' })).toEqual(truePage(stored, 100, 't50000'));
    expect(await (await fresh()).listTags('app', { n: 100, last: 't50000' })).toEqual(truePage(stored, 100, 't50000'));
    const removed = [...stored].sort()[10]!;
    await writer.deleteManifest('app', removed);
    stored.delete(removed);
    expect(await reader.listTags('app', { n: 20 })).toEqual(truePage(stored, 20, undefined));
    await writeBehind('t99999z');
    expect(await (await fresh()).listTags('app', { n: 5, last: 't99990' })).toEqual(truePage(stored, 5, 't99990'));
    expect(await reader.listTags('app', { n: 5, last: 't99990' })).toEqual(truePage(stored, 5, 't99990'));
    // and a rebuild after those changes writes the listing again, which a registry holding nothing answers from
    await settled(tagsFolder);
    await writer.rebuildCatalogIndex({ tagListings: true });
    expect((await readFile(listingFile, 'utf8')).split('\n').length).toBe(stored.size + 2);
    expect(await (await fresh()).listTags('app', { n: 100, last: 't49000' })).toEqual(truePage(stored, 100, 't49000'));
  });

  it('a tag written behind both registries\' backs is on the next page of each, after each kept the listing', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'stowage-shared-tags-'));
    roots.push(root);
    const registries = [new Registry({ driver: wrapDriver(await createFilesystemDriver(root)), deleteEnabled: true }), new Registry({ driver: wrapDriver(await createFilesystemDriver(root)), deleteEnabled: true })] as const;
    const manifest = await pushImage(registries[0]);
    const tagsFolder = path.join(root, 'docker/registry/v2/repositories/app/_manifests/tags');
    const stored = new Set(['first']);
    for (let i = 0; i < 600; i++) {
      const tag = `t${String((i * 7) % 600).padStart(3, '0')}`;
      await mkdir(path.join(tagsFolder, tag, 'current'), { recursive: true });
      await writeFile(path.join(tagsFolder, tag, 'current', 'link'), sha256(manifest));
      stored.add(tag);
    }
    await settled(tagsFolder);
    for (const registry of registries) expect(await registry.listTags('app', { n: 100, last: 't299' })).toEqual(truePage(stored, 100, 't299'));
    await mkdir(path.join(tagsFolder, 't3000', 'current'), { recursive: true });
    await writeFile(path.join(tagsFolder, 't3000', 'current', 'link'), sha256(manifest));
    stored.add('t3000');
    for (const registry of registries) {
      const page = await registry.listTags('app', { n: 100, last: 't299' });
      expect(page.entries[1]).toBe('t3000');
      expect(page).toEqual(truePage(stored, 100, 't299'));
    }
  });
});
