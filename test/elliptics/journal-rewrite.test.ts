/**
 * Journals read while another process rewrites them: a directory listing's journal is compacted (rewritten
 * shorter, with compare-and-swap) by whichever process's delete leaves it mostly dead lines or empty. A
 * reader that looked the journal up just before must still read one whole version of it, not fail past its
 * new end (seen in test/e2e/crash.test.ts: `elliptics READ ... failed with status -7` while upload purging
 * compacted `_uploads`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageDriver } from '../../src/storage/driver.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EmulatorCluster } from './emulator.js';
import { ellipticsDriver } from './context.js';

describe('an Elliptics journal rewritten shorter between a reader\'s LOOKUP and its READ', () => {
  let cluster: EmulatorCluster;
  let driver: StorageDriver;

  beforeEach(async () => {
    cluster = await new EmulatorCluster([{ groups: [1] }, { groups: [2] }]).start();
    driver = await ellipticsDriver({ nodes: cluster.remotes.join(' '), groups: '[1, 2]', chunksize: 4096 });
  });

  afterEach(async () => {
    await driver.close?.();
    await cluster.stop();
  });

  /** Rewrites `key` in every group with `bytes` right after the next LOOKUP of it, once. */
  const rewriteAfterNextLookup = (key: string, bytes: Buffer): { done: () => boolean } => {
    const id = keyId(key, 'DOCKER');
    let rewritten = 0;
    for (const node of cluster.nodes) {
      node.afterData = (command, groupId, seen) => {
        if (command !== 'LOOKUP' || !seen.equals(id) || rewritten > 0) return;
        for (const each of cluster.nodes) for (const group of [1, 2]) if (each.rewrite(group, id, bytes)) rewritten += 1;
      };
    }
    return { done: () => rewritten === 2 };
  };

  it('lists the directory from the compacted journal', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await driver.putContent(`/dir/${name}`, Buffer.from(name));
    await driver.delete('/dir/b');
    await driver.delete('/dir/c');
    // what another process's compaction writes: the same children in fewer lines
    const rewrite = rewriteAfterNextLookup('dir:/dir', Buffer.from('+a\n+d\n'));
    expect(await driver.list('/dir')).toEqual(['/dir/a', '/dir/d']);
    expect(rewrite.done(), 'the journal was rewritten between the LOOKUP and the READ').toBe(true);
  });
});
