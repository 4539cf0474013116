/**
 * A registry process killed in the middle of a delete, at every step of it: the driver whose client dies
 * after its n-th WRITE or DEL (every later call fails, as nothing more reaches the nodes of a killed
 * process) deletes a tag the way the registry does (its index, then its folder) and an upload session with
 * a staged upload. A fresh driver on the same nodes, standing for the restarted process, must then list no
 * tag that does not resolve, list a tag pushed again, and, after upload purging, leave none of the deleted
 * keys in any group.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { driverErrors } from '../../src/storage/errors.js';
import { EllipticsDriver } from '../../plugins/elliptics/src/driver.js';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import type { WriteParams } from '../../plugins/elliptics/src/protocol/messages.js';
import { parseNode } from '../../plugins/elliptics/src/options.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { IoFlags } from '../../plugins/elliptics/src/protocol/constants.js';
import { ellipticsDriver, quietLogger } from './context.js';
import { EmulatorCluster } from './emulator.js';

const CHUNK_SIZE = 4096;
const REPOSITORY = '/docker/registry/v2/repositories/crash';
const TAGS = `${REPOSITORY}/_manifests/tags`;
const UPLOAD = `${REPOSITORY}/_uploads/session`;

/** A client that stops reaching the nodes after `mutationsLeft` more WRITEs and DELs, as a killed process does. */
class DyingClient extends EllipticsClient {
  mutationsLeft = Number.POSITIVE_INFINITY;
  mutations = 0;

  private step(mutates: boolean): void {
    if (this.mutationsLeft <= 0) throw new Error('the process was killed');
    if (mutates) {
      this.mutations += 1;
      this.mutationsLeft -= 1;
    }
  }

  override async lookup(groupId: number, id: Buffer): ReturnType<EllipticsClient['lookup']> {
    this.step(false);
    return super.lookup(groupId, id);
  }

  override async read(groupId: number, id: Buffer, offset: number, size: number): ReturnType<EllipticsClient['read']> {
    this.step(false);
    return super.read(groupId, id, offset, size);
  }

  override async write(groupId: number, id: Buffer, params: WriteParams, data: Uint8Array): ReturnType<EllipticsClient['write']> {
    this.step(true);
    return super.write(groupId, id, params, data);
  }

  override async remove(groupId: number, id: Buffer): Promise<void> {
    this.step(true);
    return super.remove(groupId, id);
  }
}

let cluster: EmulatorCluster;
beforeAll(async () => {
  cluster = await new EmulatorCluster([{ groups: [1, 2] }], { idsPerBackend: 2 }).start();
});
afterAll(async () => {
  await cluster?.stop();
});

async function dyingDriver(namespace: string): Promise<{ driver: EllipticsDriver; client: DyingClient }> {
  const client = new DyingClient({ nodes: [parseNode(cluster.remotes[0]!, 'nodes')], groups: [1, 2], waitTimeoutMs: 10_000, checkTimeoutMs: 60_000, logger: quietLogger });
  await client.connect();
  return { client, driver: new EllipticsDriver({ client, namespace, chunkSize: CHUNK_SIZE, errors: driverErrors('elliptics'), logger: quietLogger }) };
}

/** A repository with two tags and an upload session holding a staged (uncommitted) upload. */
async function populate(driver: StorageDriver): Promise<void> {
  for (const tag of ['doomed', 'kept']) {
    await driver.putContent(`${TAGS}/${tag}/current/link`, Buffer.from(`sha256:${tag}`));
    await driver.putContent(`${TAGS}/${tag}/index/sha256/${tag}/link`, Buffer.from(`sha256:${tag}`));
  }
  await driver.putContent(`${UPLOAD}/startedat`, Buffer.from(new Date().toISOString()));
  await driver.putContent(`${UPLOAD}/hashstates/sha256/0`, Buffer.from('state'));
  const writer = await driver.writer(`${UPLOAD}/data`, false);
  await writer.write(Buffer.alloc(3 * CHUNK_SIZE, 7));
  await writer.close();
}

/** The key names the deleted tag and upload session were stored under (chunks read from the upload's journal). */
function deletedKeys(namespace: string): Buffer[] {
  const journal = cluster.stored(1, keyId(`upload:${UPLOAD}/data`, namespace))?.toString('utf8') ?? '';
  const chunkNames = journal.split('\n').flatMap((line) => (/^[0-9a-f]{32} /.test(line) ? [line.slice(0, 32)] : []));
  expect(chunkNames.length, 'the staged upload holds chunks').toBeGreaterThan(0);
  const tag = `${TAGS}/doomed`;
  const names = [
    `${tag}/current/link`,
    `${tag}/index/sha256/doomed/link`,
    ...[tag, `${tag}/current`, `${tag}/index`, `${tag}/index/sha256`, `${tag}/index/sha256/doomed`].map((dir) => `dir:${dir}`),
    `${UPLOAD}/startedat`,
    `${UPLOAD}/hashstates/sha256/0`,
    ...[UPLOAD, `${UPLOAD}/hashstates`, `${UPLOAD}/hashstates/sha256`].map((dir) => `dir:${dir}`),
    `upload:${UPLOAD}/data`,
    `staged:${UPLOAD}`,
    ...chunkNames.map((name) => `chunk:${name}`),
  ];
  return names.map((name) => keyId(name, namespace));
}

const leftInAnyGroup = (keys: Buffer[]): number => keys.filter((id) => cluster.stored(1, id) !== undefined || cluster.stored(2, id) !== undefined).length;

/** The registry's tag delete (src/registry/tags.ts removeTag) and upload cancel, on a driver that may die. */
async function deleteTagAndUpload(driver: StorageDriver): Promise<void> {
  const ignoreMissing = (err: { code?: string }): void => {
    if (err.code !== 'PATH_NOT_FOUND') throw err;
  };
  await driver.delete(`${TAGS}/doomed/index`).catch(ignoreMissing);
  await driver.delete(`${TAGS}/doomed`).catch(ignoreMissing);
  await driver.delete(UPLOAD).catch(ignoreMissing);
}

async function expectEveryListedTagResolves(driver: StorageDriver, when: string): Promise<string[]> {
  const tags = (await driver.list(TAGS)).map((tagPath) => tagPath.slice(TAGS.length + 1));
  for (const tag of tags) {
    const link = await driver.getContent(`${TAGS}/${tag}/current/link`).then(
      (bytes) => Buffer.from(bytes).toString('utf8'),
      (err: Error) => `not resolved: ${err.message}`,
    );
    expect(link, `${when}: listed tag ${tag} resolves`).toBe(`sha256:${tag}`);
  }
  return tags;
}

/** Populates a namespace, deletes with a driver killed after `step` steps, and starts a new driver there. */
async function crashedAt(step: number, namespace: string): Promise<{ restarted: StorageDriver; keys: Buffer[] }> {
  const { driver, client } = await dyingDriver(namespace);
  await populate(driver);
  const keys = deletedKeys(namespace);
  client.mutationsLeft = step;
  await deleteTagAndUpload(driver).catch(() => undefined);
  await driver.close();
  return { keys, restarted: await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2], namespace, chunksize: CHUNK_SIZE }) };
}

describe('an Elliptics delete cut short at any step by the death of its process', () => {
  beforeAll(async () => {
    // the steps of an uninterrupted delete: the test kills the process after each of them
    const { driver, client } = await dyingDriver('count');
    await populate(driver);
    const before = client.mutations;
    await deleteTagAndUpload(driver);
    totalSteps = client.mutations - before;
    await driver.close();
  });

  it('deletes the tag and the upload session when nothing stops it', async () => {
    expect(totalSteps).toBeGreaterThan(10);
    const { restarted, keys } = await crashedAt(Number.POSITIVE_INFINITY, 'uninterrupted');
    expect(await restarted.list(TAGS)).toEqual([`${TAGS}/kept`]);
    expect(leftInAnyGroup(keys)).toBe(0);
    await restarted.close?.();
  });

  it('never lists a tag that does not resolve, and leaves none of the deleted keys after upload purging and a client deleting again what is still listed', async () => {
    for (let step = 0; step <= totalSteps; step++) {
      const { restarted, keys } = await crashedAt(step, `purge-${step}`);
      const when = `killed after step ${step} of ${totalSteps}`;
      expect(await expectEveryListedTagResolves(restarted, when), when).toContain('kept');
      await restarted.purgeTemporaries!(new Date(Date.now() + 1000), false);
      await deleteTagAndUpload(restarted);
      expect(await expectEveryListedTagResolves(restarted, `${when}, purged`), when).toEqual(['kept']);
      expect(leftInAnyGroup(keys), `${when}: keys of the deleted tag and upload session left after purging`).toBe(0);
      expect(await restarted.purgeTemporaries!(new Date(Date.now() + 1000), true), `${when}: nothing left to purge`).toEqual([]);
      await restarted.close?.();
    }
  }, 120_000);

  it('lists a tag pushed again after the crash, at any step', async () => {
    for (let step = 0; step <= totalSteps; step++) {
      const { restarted } = await crashedAt(step, `repush-${step}`);
      const when = `killed after step ${step} of ${totalSteps}`;
      // the index first: a directory the crash left must not pass for one its parent lists already
      await restarted.putContent(`${TAGS}/doomed/index/sha256/doomed/link`, Buffer.from('sha256:doomed'));
      expect(await restarted.list(TAGS), `${when}: a folder holding an object is listed in its parent`).toContain(`${TAGS}/doomed`);
      await restarted.putContent(`${TAGS}/doomed/current/link`, Buffer.from('sha256:doomed'));
      expect((await expectEveryListedTagResolves(restarted, when)).sort(), when).toEqual(['doomed', 'kept']);
      expect(await restarted.list(`${TAGS}/doomed`), when).toContain(`${TAGS}/doomed/current`);
      // the purge of the crashed delete leaves the tag pushed since
      await restarted.purgeTemporaries!(new Date(Date.now() + 1000), false);
      expect((await expectEveryListedTagResolves(restarted, `${when}, purged`)).sort(), when).toEqual(['doomed', 'kept']);
      await restarted.close?.();
    }
  }, 120_000);

  it('a move of a committed upload cut short at any step leaves its destination whole or absent once the session is deleted', async () => {
    const content = Buffer.from(Array.from({ length: 3 * CHUNK_SIZE + 100 }, (_, i) => i % 251));
    const blob = `${REPOSITORY.replace('/repositories/crash', '/blobs')}/sha256/ab/abcd/data`;
    let steps = Number.POSITIVE_INFINITY;
    for (let step = 0; step <= steps; step++) {
      const namespace = `move-${step}`;
      const { driver, client } = await dyingDriver(namespace);
      const writer = await driver.writer(`${UPLOAD}/data`, false);
      await writer.write(content);
      await writer.commit();
      const before = client.mutations;
      if (Number.isFinite(steps)) client.mutationsLeft = step;
      await driver.move(`${UPLOAD}/data`, blob).catch(() => undefined);
      if (!Number.isFinite(steps)) steps = client.mutations - before;
      await driver.close();

      const restarted = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2], namespace, chunksize: CHUNK_SIZE });
      await restarted.delete(UPLOAD);
      const when = `killed after step ${step} of ${steps}`;
      const stored = await restarted.getContent(blob).then(
        (bytes) => (Buffer.from(bytes).equals(content) ? 'whole' : 'changed'),
        (err: { code?: string; message: string }) => (err.code === 'PATH_NOT_FOUND' ? 'absent' : err.message),
      );
      expect(['whole', 'absent'], when).toContain(stored);
      if (step === steps) expect(stored, 'an uninterrupted move').toBe('whole');
      await restarted.close?.();
    }
  }, 120_000);
});

let totalSteps = 0;

describe('a delete killed after taking its emptied parent out of the listing that a concurrent put had filled', () => {
  it('is finished by upload purging with the parent listed again, so the sessions in it are found', async () => {
    const namespace = 'refilled';
    const uploads = `${REPOSITORY}/_uploads`;
    const driver = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2], namespace, chunksize: CHUNK_SIZE });
    const client = new EllipticsClient({ nodes: [parseNode(cluster.remotes[0]!, 'nodes')], groups: [1, 2], waitTimeoutMs: 10_000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
    const append = (key: string, line: string): Promise<number[]> =>
      client.writeQuorum(keyId(key, namespace), { ioFlags: IoFlags.APPEND, offset: 0, num: 0, tsec: Math.floor(Date.now() / 1000), tnsec: 0 }, Buffer.from(line));
    try {
      await driver.putContent(`${REPOSITORY}/_layers/sha256/aa/link`, Buffer.from('sha256:aa'));
      await driver.putContent(`${uploads}/first/startedat`, Buffer.from('2026-12-06T00:00:00Z'));
      // the delete of the first session, as the driver makes it, up to the kill: noted as pending, its
      // folder emptied, its name out of _uploads (which it left empty)
      await append('pending-deletes', `+00000000000000aa ${Date.now() - 60_000} ${uploads}/first\n`);
      await append(`dir:${uploads}/first`, '-startedat\n');
      await append(`dir:${uploads}`, '-first\n');
      // a session started meanwhile fills _uploads again and lists it in the repository
      await driver.putContent(`${uploads}/second/startedat`, Buffer.from('2026-12-06T00:00:01Z'));
      // the delete takes the _uploads it saw empty out of the repository; killed before it saw the second
      // session there and put _uploads back
      await append(`dir:${REPOSITORY}`, '-_uploads\n');
      expect(await driver.list(`${uploads}`)).toEqual([`${uploads}/second`]);

      const finished = await driver.purgeTemporaries!(new Date(), false);
      expect(finished).toEqual([expect.stringContaining(`pending-deletes: ${uploads}/first`)]);
      expect(await driver.list(REPOSITORY), 'a walk of the repository (upload purging) reaches _uploads').toContain(uploads);
      expect(await driver.list(uploads)).toEqual([`${uploads}/second`]);
      expect(await driver.purgeTemporaries!(new Date(), true)).toEqual([]);
    } finally {
      await client.close();
      await driver.close?.();
    }
  }, 60_000);
});
