/**
 * Records appended in every group whose groups disagree (a directory's listing journal, the staged-upload
 * names of a folder): the registry process was killed between its append's arrival in one group and in
 * the other, and later appends reached both with the same time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EllipticsClient } from '../../plugins/elliptics/src/protocol/client.js';
import { IoFlags } from '../../plugins/elliptics/src/protocol/constants.js';
import { EmulatorCluster } from './emulator.js';
import { ellipticsDriver, quietLogger } from './context.js';

const REPOSITORY = '/docker/registry/v2/repositories/diverged';

describe('records in two replica groups that a killed process left disagreeing', () => {
  let cluster: EmulatorCluster;
  let driver: StorageDriver;
  let client: EllipticsClient;

  beforeEach(async () => {
    cluster = await new EmulatorCluster([{ groups: [1] }, { groups: [2] }]).start();
    driver = await ellipticsDriver({ nodes: cluster.remotes.join(' '), groups: '[1, 2]', chunksize: 4096 });
    client = new EllipticsClient({ nodes: cluster.nodes.map((n) => n.address), groups: [1, 2], waitTimeoutMs: 5000, checkTimeoutMs: 60_000, logger: quietLogger });
    await client.connect();
  });

  afterEach(async () => {
    await client.close();
    await driver.close?.();
    await cluster.stop();
  });

  /** what group `groupId` holds under `key`, as text */
  const stored = (groupId: number, key: string): string | undefined => {
    const id = keyId(key, 'DOCKER');
    return cluster.nodes.map((node) => node.stored(groupId, id)).find((bytes) => bytes !== undefined)?.toString('utf8');
  };

  describe('a listing journal whose groups disagree after a process died between them', () => {
    it('lists what the group holding every line lists, and is made the same in every group', async () => {
      await driver.putContent(`${REPOSITORY}/_layers/sha256/aa/link`, Buffer.from('sha256:aa'));
      // the first session's put listed _uploads in the repository in group 2 only: the process was killed
      // before the append reached group 1 (the rewrite keeps group 1's time: the next append evens it)
      await driver.putContent(`${REPOSITORY}/_uploads/first/startedat`, Buffer.from('2026-12-06T00:00:00Z'));
      const id = keyId(`dir:${REPOSITORY}`, 'DOCKER');
      const withoutUploads = stored(1, `dir:${REPOSITORY}`)!.replace('+_uploads\n', '');
      for (const node of cluster.nodes) node.rewrite(1, id, Buffer.from(withoutUploads));
      // the next put reaching the repository's journal (its first manifest) reaches both groups at one time
      await client.writeQuorum(id, { ioFlags: IoFlags.APPEND, offset: 0, num: 0, tsec: Math.floor(Date.now() / 1000) + 1, tnsec: 0 }, Buffer.from('+_manifests\n'));
      expect(stored(1, `dir:${REPOSITORY}`)).not.toEqual(stored(2, `dir:${REPOSITORY}`));

      expect(await driver.list(REPOSITORY), 'a walk of the repository (upload purging) reaches _uploads').toEqual([`${REPOSITORY}/_layers`, `${REPOSITORY}/_manifests`, `${REPOSITORY}/_uploads`]);
      expect(stored(1, `dir:${REPOSITORY}`)).toEqual(stored(2, `dir:${REPOSITORY}`));
      // the session is deleted in both groups' journals alike, and _uploads with it
      await driver.delete(`${REPOSITORY}/_uploads/first`);
      expect(await driver.list(REPOSITORY)).toEqual([`${REPOSITORY}/_layers`, `${REPOSITORY}/_manifests`]);
    }, 60_000);
  });

  describe('the staged-upload names of a folder whose groups disagree after a process died between them', () => {
    const inAnyGroup = (key: string): boolean => {
      const id = keyId(key, 'DOCKER');
      return cluster.nodes.some((node) => node.stored(1, id) !== undefined || node.stored(2, id) !== undefined);
    };

    it('are read from every group, so deleting the folder drops an upload noted in one group only', async () => {
      const session = `${REPOSITORY}/_uploads/noted`;
      const writer = await driver.writer(`${session}/data`, false);
      await writer.write(Buffer.alloc(4096, 1));
      await writer.close();
      const journal = stored(1, `upload:${session}/data`)!;
      const chunk = journal.split('\n').find((line) => /^[0-9a-f]{32} /.test(line))!.slice(0, 32);
      // the note of `data` reached group 2 only; a later note (another upload in the folder) reached both at one time
      const id = keyId(`staged:${session}`, 'DOCKER');
      await client.writeQuorum(id, { ioFlags: IoFlags.APPEND, offset: 0, num: 0, tsec: Math.floor(Date.now() / 1000) + 1, tnsec: 0 }, Buffer.from('other\n'));
      for (const node of cluster.nodes) node.rewrite(1, id, Buffer.from('other\n'));

      await driver.delete(session);
      expect(inAnyGroup(`upload:${session}/data`), 'the upload journal').toBe(false);
      expect(inAnyGroup(`chunk:${chunk}`), 'the staged chunk').toBe(false);
    }, 60_000);
  });
});
