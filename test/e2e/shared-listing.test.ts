/**
 * Two `stowage serve` processes on one storage folder: a tag or repository pushed or deleted through one is
 * listed, or no longer listed, by the other at once, including when the other already answered a listing
 * of that folder (the filesystem driver keeps sorted listings while a folder is unchanged), and pages
 * followed across `last`/`n` hold every tag once, in order.
 */
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getManifest, startStowageProcess, type StowageProcess } from '../support/index.js';
import { pushTaggedImage } from '../support/push-by-url.js';
import { settled } from '../support/settled.js';

async function call(url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; link?: string }> {
  const response = await request(url, { method, body, headers });
  const link = response.headers.link;
  return { status: response.statusCode, body: Buffer.from(await response.body.arrayBuffer()), ...(typeof link === 'string' ? { link } : {}) };
}

/** The image of `repository` (its config names it), under each of `tags`; its digest. */
const pushImage = (url: string, repository: string, tags: readonly string[]): Promise<string> =>
  pushTaggedImage(url, repository, {
    tags,
    config: Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, repository })),
    layers: [Buffer.from(`layer of ${repository}`)],
  });

/** Every entry, following the Link headers from `first` (a path and query). */
async function walk(url: string, first: string, key: 'tags' | 'repositories'): Promise<string[]> {
  const entries: string[] = [];
  let next: string | undefined = first;
  while (next !== undefined) {
    const page = await call(`${url}${next}`, 'GET');
    expect(page.status).toBe(200);
    entries.push(...((JSON.parse(page.body.toString()) as Record<string, string[] | null>)[key] ?? []));
    next = page.link ? /<([^>]+)>/.exec(page.link)?.[1] : undefined;
  }
  return entries;
}

/** Waits until `stowage serve` has written the catalog index's base (it does at start, in the background). */
async function catalogIndexBuilt(root: string): Promise<void> {
  const pointer = path.join(root, '_stowage/catalog/current');
  for (;;) {
    if (await stat(pointer).then(() => true, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sorted = (values: readonly string[]): string[] => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

describe('two stowage processes sharing one storage folder', () => {
  let writer: StowageProcess;
  let reader: StowageProcess;
  beforeAll(async () => {
    writer = await startStowageProcess();
    reader = await startStowageProcess({ rootdirectory: writer.rootdirectory });
  }, 60_000);
  afterAll(async () => {
    await reader?.close();
    await writer?.close();
  });

  it('a tag pushed or deleted through one is listed, or not, by the other at once, and every listed tag resolves', async () => {
    const tags = Array.from({ length: 23 }, (_, i) => `v${i}`).concat(['latest', 'A', '_x', 'v1.b', 'v1-b']);
    const digest = await pushImage(writer.url, 'shared/app', tags);
    const tagsFolder = path.join(writer.rootdirectory, 'docker/registry/v2/repositories/shared/app/_manifests/tags');
    await settled(tagsFolder);
    // the reader lists the settled folder (and keeps its listing), pages of 5 included
    expect(await walk(reader.url, '/v2/shared/app/tags/list', 'tags')).toEqual(sorted(tags));
    expect(await walk(reader.url, '/v2/shared/app/tags/list?n=5', 'tags')).toEqual(sorted(tags));

    await pushImage(writer.url, 'shared/app', ['v1.c']);
    expect(await walk(reader.url, '/v2/shared/app/tags/list?n=4&last=v1', 'tags')).toEqual(sorted([...tags, 'v1.c']).filter((tag) => tag > 'v1'));
    expect((await call(`${writer.url}/v2/shared/app/manifests/v1-b`, 'DELETE')).status).toBe(202);
    const listed = await walk(reader.url, '/v2/shared/app/tags/list?n=3', 'tags');
    expect(listed).toEqual(sorted([...tags, 'v1.c']).filter((tag) => tag !== 'v1-b'));
    for (const tag of listed) expect((await getManifest(reader.url, 'shared/app', tag)).dockerContentDigest, tag).toBe(digest);

    // a manifest deleted by digest takes every tag naming it out of the other's listing
    expect((await call(`${writer.url}/v2/shared/app/manifests/${digest}`, 'DELETE')).status).toBe(202);
    expect(await walk(reader.url, '/v2/shared/app/tags/list', 'tags')).toEqual([]);
  });

  it('a repository pushed through one is in the other catalog at once, in order, across pages', async () => {
    const names = ['shared/c', 'shared/a', 'shared/a.b', 'shared/a/b', 'shared/b'];
    for (const name of names.slice(0, 3)) await pushImage(writer.url, name, ['latest']);
    await settled(path.join(writer.rootdirectory, 'docker/registry/v2/repositories/shared'));
    const before = await walk(reader.url, '/v2/_catalog?n=2', 'repositories');
    expect(before.filter((name) => names.includes(name))).toEqual(sorted(names.slice(0, 3)));
    for (const name of names.slice(3)) await pushImage(writer.url, name, ['latest']);
    const after = await walk(reader.url, '/v2/_catalog?n=2', 'repositories');
    expect(after.filter((name) => names.includes(name))).toEqual(sorted(names));
    expect(after).toEqual(sorted(after));
    expect(new Set(after).size).toBe(after.length);
  });

  it('from the catalog index: a repository pushed through one is listed by the other after it kept the listings, and one removed by hand is not', async () => {
    await catalogIndexBuilt(writer.rootdirectory);
    const repositories = path.join(writer.rootdirectory, 'docker/registry/v2/repositories');
    const ours = (names: readonly string[]): string[] => names.filter((name) => name.startsWith('indexed/'));
    for (const name of ['indexed/a', 'indexed/c', 'indexed/a/deeper']) await pushImage(writer.url, name, ['latest']);
    await settled(path.join(writer.rootdirectory, '_stowage/catalog/journal'));
    await settled(path.join(repositories, 'indexed'));
    expect(ours(await walk(reader.url, '/v2/_catalog?n=1000', 'repositories'))).toEqual(['indexed/a', 'indexed/a/deeper', 'indexed/c']);
    await pushImage(writer.url, 'indexed/b', ['latest']);
    expect(ours(await walk(reader.url, '/v2/_catalog?n=2&last=indexed/a', 'repositories'))).toEqual(['indexed/a/deeper', 'indexed/b', 'indexed/c']);
    // registry:2's repository delete: the folder removed by hand, the one below it with it
    await rm(path.join(repositories, 'indexed/a'), { recursive: true });
    expect(ours(await walk(reader.url, '/v2/_catalog?n=1', 'repositories'))).toEqual(['indexed/b', 'indexed/c']);
    await pushImage(reader.url, 'indexed/a', ['latest']);
    expect(ours(await walk(writer.url, '/v2/_catalog?n=1000', 'repositories'))).toEqual(['indexed/a', 'indexed/b', 'indexed/c']);
  });
});
