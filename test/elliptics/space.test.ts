/**
 * Disk space on an eblob backend. The emulator keeps eblob's accounting (see the space rule in emulator.ts):
 * a record a write has to extend moves whole to the end of the blob file, the old place stays until
 * defragmentation. On a real 2.26 server a 50 MiB layer staged as growing WRITEs left a 1.44 GB blob file.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { IoFlags } from '../../plugins/elliptics/src/protocol/constants.js';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { parseNode } from '../../plugins/elliptics/src/options.js';
import { deterministicBuffer } from '../support/deterministic-bytes.js';
import { chunksOf, pushBlobChunked, sha256 } from '../support/push-by-url.js';
import { startStowageWithDriver } from '../support/stowage.js';
import { ellipticsDriver, quietLogger } from './context.js';
import { EmulatorCluster } from './emulator.js';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function singleGroupCluster(): Promise<EmulatorCluster> {
  const cluster = await new EmulatorCluster([{ groups: [1] }]).start();
  cleanups.push(() => cluster.stop());
  return cluster;
}

describe('the emulator accounts for space as eblob does', () => {
  async function rawClient(cluster: EmulatorCluster): Promise<EllipticsClient> {
    const client = new EllipticsClient({ nodes: cluster.remotes.map((remote) => parseNode(remote, 'nodes')), groups: [1], waitTimeoutMs: 10_000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
    cleanups.push(() => client.close());
    return client;
  }
  const stamp = { num: 0, tsec: 1, tnsec: 0 };

  it('a record extended by WRITEs at growing offsets is copied each time: space grows with the square of its size', async () => {
    const cluster = await singleGroupCluster();
    const client = await rawClient(cluster);
    const id = keyId('growing', 'DOCKER');
    const chunk = deterministicBuffer('growing', MiB);
    const before = cluster.storageBytes(1);
    for (let i = 0; i < 16; i++) await client.writeQuorum(id, { ...stamp, ioFlags: 0, offset: i * MiB }, chunk);
    // 1 + 2 + ... + 16 MiB of places, of which only the last is live
    expect(cluster.storageBytes(1) - before).toBeGreaterThan(136 * MiB);
    expect(cluster.liveBytes(1)).toBeLessThan(17 * MiB);
  });

  it('PREPARE reserves the size once: PLAIN_WRITEs into it and the COMMIT take no more space', async () => {
    const cluster = await singleGroupCluster();
    const client = await rawClient(cluster);
    const id = keyId('prepared', 'DOCKER');
    const chunk = deterministicBuffer('prepared', MiB);
    const before = cluster.storageBytes(1);
    for (let i = 0; i < 16; i++) {
      const ioFlags = IoFlags.PLAIN_WRITE | (i === 0 ? IoFlags.PREPARE : 0) | (i === 15 ? IoFlags.COMMIT : 0);
      await client.writeQuorum(id, { ...stamp, ioFlags, offset: i * MiB, num: 16 * MiB }, chunk);
    }
    const used = cluster.storageBytes(1) - before;
    expect(used).toBeGreaterThanOrEqual(16 * MiB);
    expect(used).toBeLessThan(16 * MiB + 4096);
  });

  it('APPENDs grow a record geometrically (doubling its place), so a journal costs a few times its size', async () => {
    const cluster = await singleGroupCluster();
    const client = await rawClient(cluster);
    const id = keyId('journal', 'DOCKER');
    const line = Buffer.from(`+${'x'.repeat(63)}\n`);
    const before = cluster.storageBytes(1);
    for (let i = 0; i < 2000; i++) await client.writeQuorum(id, { ...stamp, ioFlags: IoFlags.APPEND, offset: 0 }, line);
    const size = 2000 * line.length;
    expect(cluster.storageBytes(1) - before).toBeLessThan(8 * size);
  });

  it('a removed record is space until defragmentation, which reclaims it', async () => {
    const cluster = await singleGroupCluster();
    const client = await rawClient(cluster);
    const id = keyId('removed', 'DOCKER');
    const empty = cluster.storageBytes(1);
    await client.writeQuorum(id, { ...stamp, ioFlags: 0, offset: 0 }, deterministicBuffer('removed', 4 * MiB));
    await client.removeQuorum(id);
    expect(cluster.storageBytes(1) - empty).toBeGreaterThanOrEqual(4 * MiB);
    cluster.defragment();
    expect(cluster.storageBytes(1)).toBe(empty);
  });
});

describe('stowage on Elliptics stores a layer in linear space', () => {
  async function pushChunked(url: string, repository: string, content: Buffer, chunkSize: number): Promise<string> {
    expect(await pushBlobChunked(url, repository, chunksOf(content, chunkSize))).toBe(201);
    return sha256(content);
  }

  /** Starts an upload and sends `content` as one chunk; answers the session's URL. */
  async function startAndPatch(url: string, repository: string, content: Buffer): Promise<string> {
    const started = await request(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    await started.body.dump();
    const location = new URL(String(started.headers.location), url).href;
    const patched = await request(location, { method: 'PATCH', body: content, headers: { 'content-type': 'application/octet-stream' } });
    await patched.body.dump();
    expect(patched.statusCode).toBe(202);
    return new URL(String(patched.headers.location), url).href;
  }

  async function registryOnEmulator(): Promise<{ cluster: EmulatorCluster; driver: StorageDriver; url: string }> {
    const cluster = await singleGroupCluster();
    const driver = await ellipticsDriver({ nodes: cluster.remotes, groups: [1], waittimeout: 10 });
    cleanups.push(async () => driver.close?.());
    const registry = await startStowageWithDriver(driver);
    cleanups.push(() => registry.close());
    return { cluster, driver, url: registry.url };
  }

  it('pushing N MiB in chunks takes under 3 x N MiB; a cancelled upload frees its chunks; deleting it all and defragmenting leaves the store near empty', async () => {
    const { cluster, driver, url } = await registryOnEmulator();
    const empty = cluster.storageBytes(1);
    const layer = deterministicBuffer('space/layer', 24 * MiB + 12_345);
    const odd = deterministicBuffer('space/odd', 5 * MiB + 1);
    const digests = [await pushChunked(url, 'space/app', layer, 700 * 1024), await pushChunked(url, 'space/app', odd, 3 * MiB)];
    const pushed = layer.length + odd.length;

    const used = cluster.storageBytes(1) - empty;
    expect(used, `${used} bytes of blob files for ${pushed} bytes pushed`).toBeLessThan(3 * pushed);
    // what was pushed reads back whole
    for (const [digest, content] of [
      [digests[0]!, layer],
      [digests[1]!, odd],
    ] as const) {
      const response = await request(`${url}/v2/space/app/blobs/${digest}`);
      expect(Buffer.from(await response.body.arrayBuffer()).equals(content)).toBe(true);
    }

    // an upload cancelled part-way (DELETE) takes its staged chunks with it ...
    const liveBefore = cluster.liveBytes(1);
    const cancelled = await startAndPatch(url, 'space/app', deterministicBuffer('space/cancelled', 3 * MiB));
    expect(cluster.liveBytes(1) - liveBefore).toBeGreaterThan(3 * MiB);
    const deleted = await request(cancelled, { method: 'DELETE' });
    await deleted.body.dump();
    expect(deleted.statusCode).toBe(204);
    expect(cluster.liveBytes(1) - liveBefore).toBeLessThan(64 * 1024);
    // ... and one left unfinished goes with the tree it is in
    await startAndPatch(url, 'space/other', deterministicBuffer('space/abandoned', 2 * MiB));

    await driver.delete('/docker');
    cluster.defragment();
    expect(cluster.storageBytes(1) - empty, 'bytes left after deleting everything and defragmenting').toBeLessThan(16 * 1024);
  });

  it('listing journals are compacted: after many uploads and deleting every object one by one, each journal holds at most the two lines of an empty directory', async () => {
    const { cluster, driver, url } = await registryOnEmulator();
    const empty = cluster.storageBytes(1);
    // each upload adds and removes its session folder in `_uploads`, each blob a folder under blobs/sha256
    const uploads = 12;
    for (let i = 0; i < uploads; i++) await pushChunked(url, 'space/many', deterministicBuffer(`space/many/${i}`, 4096 + i), 64 * 1024);

    const directories: string[] = [];
    const objects: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      directories.push(dir);
      for (const child of await driver.list(dir)) {
        if ((await driver.stat(child)).isDir) await walk(child);
        else objects.push(child);
      }
    };
    await walk('/');
    const journalOf = (dir: string): string[] => {
      const stored = cluster.stored(1, keyId(`dir:${dir}`, 'DOCKER'));
      return stored ? stored.toString('utf8').split('\n').filter((line) => line !== '') : [];
    };
    // `_uploads` is empty again after the last commit (so no listing names it); without compaction its journal
    // would hold a `+` and a `-` per upload
    const uploadsDir = '/docker/registry/v2/repositories/space/many/_uploads';
    expect(directories).not.toContain(uploadsDir);
    expect(journalOf(uploadsDir)).toHaveLength(2);
    directories.push(uploadsDir);
    for (const path of objects) await driver.delete(path);

    expect(await driver.list('/')).toEqual([]);
    for (const dir of directories) expect(journalOf(dir).length, `lines left in the journal of ${dir}`).toBeLessThanOrEqual(2);
    cluster.defragment();
    // What is left: one journal of at most two lines per directory the pushes created, in the place eblob gave
    // it (a rewrite in place keeps the place), whatever the number of uploads; chunks and descriptors are gone.
    const left = cluster.storageBytes(1) - empty;
    expect(left, `bytes left for ${directories.length} directories`).toBeLessThan(directories.length * 512);
  });
});
