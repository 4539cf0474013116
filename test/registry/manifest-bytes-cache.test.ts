import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { inMemoryDriver, OCI_MANIFEST, pushImage, startTestRegistry, type TestRegistry } from '../http/support/registry.js';

const blobDataPath = (digest: string): string => {
  const hex = digest.slice('sha256:'.length);
  return `/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
};

// Two registries over one storage stand for two processes (or `http.workers`) sharing a folder: each keeps
// manifest bytes in memory of its own, and neither may answer from it what the storage no longer says.
describe('manifest bytes kept in memory (by digest) never outlive what storage says', () => {
  const driver = inMemoryDriver();
  let a: TestRegistry;
  let b: TestRegistry;
  beforeAll(async () => {
    a = await startTestRegistry({ driver });
    b = await startTestRegistry({ driver });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  const get = (registry: TestRegistry, reference: string) => registry.send('GET', `/v2/shared/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });

  it('a tag moved or a manifest deleted through one registry is seen at once through the other', async () => {
    const first = await pushImage(a, 'shared/app', 'latest', {}, 'first layer');
    for (const reference of ['latest', first.digest]) {
      const answer = await get(b, reference);
      expect([answer.status, answer.headers['docker-content-digest'], answer.body.toString()]).toEqual([200, first.digest, first.manifest]);
    }
    const second = await pushImage(a, 'shared/app', 'latest', {}, 'second layer');
    const moved = await get(b, 'latest');
    expect([moved.status, moved.headers['docker-content-digest'], moved.body.toString()]).toEqual([200, second.digest, second.manifest]);
    // the first manifest, untagged, is still there by digest (answered from memory or storage alike)
    expect((await get(b, first.digest)).body.toString()).toBe(first.manifest);

    expect((await a.send('DELETE', `/v2/shared/app/manifests/${second.digest}`)).status).toBe(202);
    expect((await get(b, second.digest)).status).toBe(404);
    expect((await get(b, 'latest')).status).toBe(404);
    expect((await b.send('HEAD', `/v2/shared/app/manifests/${second.digest}`)).status).toBe(404);
  });

  it('bytes that do not hash to their digest (damaged on disk) are served as stored but not remembered', async () => {
    const image = await pushImage(a, 'shared/app', 'damaged', {}, 'damaged layer');
    const path = blobDataPath(image.digest);
    const good = await driver.getContent(path);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 2] = damaged[damaged.length - 2]! ^ 0x20;
    const c = await startTestRegistry({ driver });
    try {
      await driver.putContent(path, damaged);
      expect((await get(c, image.digest)).body).toEqual(damaged);
      await driver.putContent(path, good);
      expect((await get(c, image.digest)).body.toString()).toBe(image.manifest);
    } finally {
      await c.close();
    }
  });
});

describe('manifest bytes kept in memory serve the next request', () => {
  it('a manifest hashed on push is answered to every later GET from memory, not read from storage per request', async () => {
    const storage = inMemoryDriver();
    const dataReads: string[] = [];
    // every whole read and every opened reader of a blob's data file, as the registry asks its driver
    const driver: StorageDriver = Object.assign(Object.create(storage) as StorageDriver, {
      getContent: (target: string, signal?: AbortSignal) => (target.endsWith('/data') && dataReads.push(target), storage.getContent(target, signal)),
      reader: (target: string, offset: number, signal?: AbortSignal) => (target.endsWith('/data') && dataReads.push(target), storage.reader(target, offset, signal)),
    });
    const registry = await startTestRegistry({ driver });
    try {
      const image = await pushImage(registry, 'kept/app', 'latest', {}, 'kept layer');
      dataReads.length = 0;
      for (const reference of ['latest', image.digest, 'latest']) {
        const answer = await registry.send('GET', `/v2/kept/app/manifests/${reference}`, { headers: { accept: OCI_MANIFEST } });
        expect([answer.status, answer.body.toString()]).toEqual([200, image.manifest]);
      }
      // the push hashed the bytes it stored, so not even the first GET needs them from storage
      expect(dataReads.filter((target) => target === blobDataPath(image.digest))).toEqual([]);
    } finally {
      await registry.close();
    }
  });
});

describe('the media type of a manifest kept in memory', () => {
  it.each([
    ['its own mediaType', {}],
    ['no mediaType field (served by its shape)', { mediaType: undefined }],
  ])('is the one storage gives, for a manifest with %s', async (_, extra) => {
    const driver = inMemoryDriver();
    const pusher = await startTestRegistry({ driver });
    const fresh = await startTestRegistry({ driver });
    try {
      const image = await pushImage(pusher, 'typed/app', 'latest', extra, 'typed layer');
      const fromMemory = await pusher.send('GET', '/v2/typed/app/manifests/latest');
      const fromStorage = await fresh.send('GET', '/v2/typed/app/manifests/latest');
      expect([fromMemory.status, fromMemory.headers['content-type'], fromMemory.body.toString()]).toEqual([200, OCI_MANIFEST, image.manifest]);
      expect([fromStorage.status, fromStorage.headers['content-type'], fromStorage.body.toString()]).toEqual([200, OCI_MANIFEST, image.manifest]);
    } finally {
      await pusher.close();
      await fresh.close();
    }
  });
});
