import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enableGroupSync, SyncGroup, type SyncfsCall, unwrittenBytes } from '../src/group-sync.js';

/** A syncfs that runs only when the test lets it: each call waits in `calls` until finished with a result. */
function heldSyncfs() {
  const calls: { fd: number; finish(result: number): void }[] = [];
  const call: SyncfsCall = { async: (fd, done) => calls.push({ fd, finish: (result) => done(null, result) }) };
  return { call, calls };
}

/** lets every promise reaction that is ready run (no timer involved) */
const drained = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** the state of a promise, without waiting for it */
function tracked<T>(promise: Promise<T>): { readonly settled: boolean; readonly error: unknown } {
  const state = { settled: false, error: undefined as unknown };
  promise.then(
    () => (state.settled = true),
    (err: unknown) => {
      state.settled = true;
      state.error = err;
    },
  );
  return state;
}

describe('syncs grouped into one syncfs per filesystem', () => {
  it('lets every caller that joins before a syncfs starts share it, and flushes the descriptor it synced after it', async () => {
    const { call, calls } = heldSyncfs();
    const flushed: number[] = [];
    const group = new SyncGroup(call, async (fd) => void flushed.push(fd));
    const waiters = [group.join(11), group.join(12), group.join(13)].map(tracked);
    await drained();
    expect(calls.map((c) => c.fd)).toEqual([11]);
    expect(waiters.some((w) => w.settled)).toBe(false);
    calls[0]!.finish(0);
    await drained();
    expect(flushed).toEqual([11]);
    expect(waiters.every((w) => w.settled && w.error === undefined)).toBe(true);
  });

  it('never answers a caller with a syncfs that started before its call: it waits for the next, which starts after the running one', async () => {
    const { call, calls } = heldSyncfs();
    const group = new SyncGroup(call, async () => undefined);
    const first = tracked(group.join(1));
    await drained();
    expect(calls).toHaveLength(1);
    // these arrive while the first syncfs runs
    const later = [group.join(2), group.join(3)].map(tracked);
    await drained();
    expect(calls).toHaveLength(1);
    calls[0]!.finish(0);
    await drained();
    expect(first.settled).toBe(true);
    expect(later.some((w) => w.settled)).toBe(false);
    // the one queued behind it started once it ended, for both
    expect(calls.map((c) => c.fd)).toEqual([1, 2]);
    calls[1]!.finish(0);
    await drained();
    expect(later.every((w) => w.settled && w.error === undefined)).toBe(true);
  });

  it('fails the callers of a syncfs that failed with EIO, and the next callers get a new one', async () => {
    const { call, calls } = heldSyncfs();
    const group = new SyncGroup(call, async () => undefined);
    const failed = [group.join(5), group.join(6)].map(tracked);
    await drained();
    calls[0]!.finish(-1);
    await drained();
    for (const waiter of failed) expect(waiter.error).toMatchObject({ code: 'EIO' });
    const next = tracked(group.join(7));
    await drained();
    expect(calls.map((c) => c.fd)).toEqual([5, 7]);
    calls[1]!.finish(0);
    await drained();
    expect(next).toMatchObject({ settled: true, error: undefined });
  });

  it('syncs alone what an idle registry asks in one turn, and groups what arrives while syncs of an earlier turn run', async () => {
    const { call, calls } = heldSyncfs();
    const alone: { fd: number; dataOnly: boolean; finish(): void }[] = [];
    const syncOne = (fd: number, dataOnly: boolean): Promise<void> => new Promise((resolve) => alone.push({ fd, dataOnly, finish: resolve }));
    const group = new SyncGroup(call, syncOne);
    // one request's files and folders, asked for in one turn with nothing in flight: each synced alone, side by side
    const first = [group.sync(1, true), group.sync(2, false)].map(tracked);
    await drained();
    expect(alone.map((a) => [a.fd, a.dataOnly])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect(calls).toHaveLength(0);
    // a later turn, while those run: contention, so a syncfs (started at once: none runs), shared by that turn's callers
    const grouped = [group.sync(3, true), group.sync(4, false)].map(tracked);
    await drained();
    expect(calls.map((c) => c.fd)).toEqual([3]);
    expect(alone).toHaveLength(2);
    for (const a of alone) a.finish();
    calls[0]!.finish(0);
    await drained();
    expect(first.every((w) => w.settled && w.error === undefined)).toBe(true);
    // the syncfs is followed by a data sync of the descriptor it was given, for the disk's flush; its callers wait for it
    expect(alone.map((a) => [a.fd, a.dataOnly])).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    expect(grouped.some((w) => w.settled)).toBe(false);
    alone[2]!.finish();
    await drained();
    expect(grouped.every((w) => w.settled && w.error === undefined)).toBe(true);
    // all done: idle again, so the next caller is synced alone
    void group.sync(5, true);
    await drained();
    expect(alone.map((a) => a.fd)).toEqual([1, 2, 3, 5]);
    expect(calls).toHaveLength(1);
  });

  it('reads the unwritten bytes from /proc/meminfo text as Dirty plus Writeback', () => {
    const meminfo = 'MemTotal:       24683924 kB\nMemFree:        19059076 kB\nDirty:              1536 kB\nWriteback:           512 kB\nWritebackTmp:          7 kB\n';
    expect(unwrittenBytes(meminfo)).toBe((1536 + 512) * 1024);
    expect(unwrittenBytes('MemTotal: 1 kB\n')).toBe(0);
  });
});

describe('where groupsync: auto groups syncs', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'stowage-group-sync-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('does not group on a filesystem whose syncfs it does not trust, and says which type it found', () => {
    // tmpfs and NFS: a syncfs there is no proof the data is on stable storage
    for (const [type, shown] of [
      [0x01021994, '0x1021994'],
      [0x6969, '0x6969'],
    ] as const) {
      const decision = enableGroupSync(root, () => type);
      expect(decision.grouped).toBe(false);
      expect(decision.why).toContain(shown);
    }
  });

  it('says why when the root cannot be examined', () => {
    const decision = enableGroupSync(path.join(root, 'missing'));
    expect(decision).toMatchObject({ grouped: false });
    expect(decision.why).toContain('ENOENT');
  });

  it.runIf(process.platform === 'linux')('groups on ext4, naming it, where syncfs can be called', () => {
    const decision = enableGroupSync(root, () => 0xef53);
    expect(decision).toEqual({ grouped: true, why: 'ext4' });
  });
});
