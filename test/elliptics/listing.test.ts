import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EmulatorCluster } from './emulator.js';
import { ellipticsDriver } from './context.js';

/** Two drivers on one cluster stand for two registry processes sharing the same Elliptics storage. */
describe('directory listings shared by several registry processes', () => {
  let cluster: EmulatorCluster;
  let first: StorageDriver;
  let second: StorageDriver;

  beforeAll(async () => {
    cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }], { idsPerBackend: 2 }).start();
    first = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2] });
    second = await ellipticsDriver({ nodes: cluster.remotes, groups: [1, 2] });
  });
  afterAll(async () => {
    await first?.close?.();
    await second?.close?.();
    await cluster?.stop();
  });

  it('loses no entry when both put files into the same directory at once', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((name, i) => (i % 2 === 0 ? first : second).putContent(`/shared/dir/${name}`, Buffer.from(name))));
    expect((await first.list('/shared/dir')).sort()).toEqual(names.map((n) => `/shared/dir/${n}`));
    expect(await second.list('/shared')).toEqual(['/shared/dir']);
  });

  it('lists a directory again when one process fills it while the other deletes its last file', async () => {
    for (let round = 0; round < 10; round++) {
      await first.putContent(`/race${round}/d/old`, Buffer.from('x'));
      await Promise.all([first.delete(`/race${round}/d/old`), second.putContent(`/race${round}/d/new`, Buffer.from('y'))]);
      expect(await first.list(`/race${round}`)).toEqual([`/race${round}/d`]);
      expect(await second.list(`/race${round}/d`)).toEqual([`/race${round}/d/new`]);
    }
  });

  it('shows a directory deleted by one process as gone to the other, and re-lists it after a new put there', async () => {
    await first.putContent('/gone/a/file', Buffer.from('1'));
    expect(await second.list('/gone')).toEqual(['/gone/a']);
    await second.delete('/gone/a');
    await expect(first.list('/gone/a')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(first.stat('/gone')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await first.putContent('/gone/a/again', Buffer.from('2'));
    expect(await second.list('/gone')).toEqual(['/gone/a']);
    expect(await second.list('/')).toContain('/gone');
  });

  it('lists a directory whose first entries reached the two groups in opposite orders', async () => {
    // What two processes' appends racing into an empty directory can leave: each group applies them as they
    // arrive. Set up by rewriting each group's copy of the journals (times kept), then one more put decides.
    const journal = (dir: string) => keyId(`dir:${dir}`, 'DOCKER');
    const rewrite = (groupId: number, dir: string, text: string) => {
      const done = cluster.nodes.map((node) => node.rewrite(groupId, journal(dir), Buffer.from(text)));
      expect(done).toContain(true);
    };
    for (const [dir, orders] of [
      ['/order1', ['+b\n+a\n', '+a\n+b\n']],
      ['/order2', ['+a\n+b\n', '+b\n+a\n']],
    ] as const) {
      await first.putContent(`${dir}/d/x`, Buffer.from('x'));
      // the directory's journal as the race left it, and its parent not listing it yet
      rewrite(1, `${dir}/d`, orders[0]);
      rewrite(2, `${dir}/d`, orders[1]);
      for (const groupId of [1, 2]) rewrite(groupId, dir, '+d\n-d\n');
      await expect(second.list(dir)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
      // `a` filled the directory in one group's order, `b` in the other's, and `b` already decided from the copy
      // `a` fills (so did not list it); `a` decides now, from whichever copy it reads
      await second.putContent(`${dir}/d/a`, Buffer.from('a'));
      expect(await second.list(dir)).toEqual([`${dir}/d`]);
    }
  });
});
