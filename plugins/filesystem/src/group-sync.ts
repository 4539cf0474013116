/**
 * Small changes made durable together: one syncfs(2) for every small file and folder that concurrent requests
 * asked to sync while the previous one ran, instead of an fsync each (`groupsync`).
 *
 * Why: a small push makes six things durable (a blob's data, its folder and the prefix folder above it; the
 * repository link, its folder and `_layers/sha256`). As fsyncs, each writes its own inode-table and folder blocks
 * and flushes the disk's cache on its own, and each is a thread-pool round trip: at 16 pushes in flight that is
 * about a hundred syncs where one pass over the filesystem's dirty blocks and one flush would do
 * (docs/bench.md, "Small-blob pushes, fifteenth pass"). This is the group commit the issue asks for, across uploads.
 *
 * What keeps it correct:
 * - a caller waits for a syncfs that started after its call, so every change it made before calling is covered;
 * - syncfs is used only where the filesystem's sync writes everything it holds (ext4, xfs, btrfs, by statfs's
 *   magic number); on others (NFS, FUSE, overlay, tmpfs ...) a syncfs may write less, and every change is synced
 *   alone as before;
 * - ext4 without a journal asks the disk to flush its cache before its last pass over the block device's buffers
 *   (inode tables, folder blocks: fs/sync.c's sync_filesystem, then ext4_sync_fs), so each syncfs is followed by
 *   an fdatasync of one descriptor, whose flush covers them;
 * - while the page cache holds much unwritten data (a large upload, another program), a syncfs would write all
 *   of it before returning: small changes are then synced alone, as without grouping.
 *
 * Node has no syncfs binding: koffi (an FFI library shipping prebuilt binaries) calls libc's. Without it, on
 * other systems, or with `groupsync: off`, every change is synced alone (descriptor-sync.ts).
 */
import { fstatSync, readFileSync, statSync, statfsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type DescriptorSync, syncDescriptor } from './descriptor-sync.js';

/** statfs f_type of the filesystems whose sync_fs makes everything the page cache holds for them durable */
const FULL_SYNC_FILESYSTEMS = new Map<number, string>([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
]);

/**
 * Above this much dirty and under-writeback memory (/proc/meminfo), a syncfs would first write what other
 * writers left in the page cache; the small changes are then synced alone. Large uploads sync as they go
 * (writer.ts), so on a registry that is busy with them the figure stays well below this between their syncs.
 */
const DIRTY_LIMIT_BYTES = 64 * 1024 * 1024;
/** how long a reading of /proc/meminfo is trusted (reading it costs tens of microseconds) */
const DIRTY_READING_MS = 100;

/** the syncfs call, bound through koffi (its `async` runs it on libuv's thread pool) */
export type SyncfsCall = { async(fd: number, done: (err: unknown, result: number) => void): void };

let syncfsCall: SyncfsCall | null | undefined;

function loadSyncfs(): SyncfsCall | undefined {
  if (syncfsCall !== undefined) return syncfsCall ?? undefined;
  syncfsCall = null;
  if (process.platform !== 'linux') return undefined;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as { load(name: string): { func(signature: string): SyncfsCall } };
    syncfsCall = koffi.load('libc.so.6').func('int syncfs(int fd)');
  } catch {
    // not installed (an optional dependency), no prebuilt binary for this system, or not glibc
  }
  return syncfsCall ?? undefined;
}

/** What `groupsync` came to for a storage root, for the driver's startup log. */
export interface GroupSyncDecision {
  readonly grouped: boolean;
  /** the filesystem's name when grouped, otherwise why not */
  readonly why: string;
}

/** one group per filesystem (st_dev) that a driver root enabled it for */
const groups = new Map<number, SyncGroup>();

/**
 * Turns grouped syncs on for the filesystem holding `root` when it can be trusted with them (see above).
 * A process may serve several roots; each enables its own filesystem.
 */
export function enableGroupSync(root: string, filesystemType: (root: string) => number = (path) => statfsSync(path).type): GroupSyncDecision {
  let type: number;
  let device: number;
  try {
    type = filesystemType(root);
    device = statSync(root).dev;
  } catch (err) {
    return { grouped: false, why: `the root could not be examined (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const name = FULL_SYNC_FILESYSTEMS.get(type);
  if (name === undefined) return { grouped: false, why: `filesystem type 0x${type.toString(16)} is not one whose syncfs is trusted (ext4, xfs, btrfs)` };
  const call = loadSyncfs();
  if (!call) return { grouped: false, why: 'syncfs cannot be called here (Linux with glibc and the optional koffi package are needed)' };
  if (!groups.has(device)) groups.set(device, new SyncGroup(call));
  return { grouped: true, why: name };
}

/**
 * Makes durable what was written to, created in or renamed into the file or folder open as `fd` (a small file
 * or a folder): through its filesystem's group when there is one and the page cache is not busy, otherwise by
 * syncing the descriptor (`dataOnly`: fdatasync).
 */
export function syncSmallChange(fd: number, dataOnly: boolean): Promise<void> {
  if (groups.size === 0) return syncDescriptor(fd, dataOnly);
  const group = groups.get(fstatSync(fd).dev);
  if (group === undefined || dirtyMemoryIsLarge()) return syncDescriptor(fd, dataOnly);
  return group.sync(fd, dataOnly);
}

/**
 * One syncfs at a time per filesystem: a caller joins the one queued behind the running one (or starts one when
 * none runs), so every syncfs it waits for started after its call, and everyone who asked meanwhile shares it.
 *
 * Only under contention: when no syncfs runs and no sync from an earlier turn of the event loop is still in
 * flight, the caller's descriptor is synced alone, as are the others of that turn. A request on an idle registry
 * (one manifest PUT after another) then syncs its few files and folders side by side as before, where a syncfs
 * and the flush after it, one after the other, cost it 13 % of its rate; while requests overlap, their syncs group.
 */
export class SyncGroup {
  /** the sync that callers join: not started yet */
  private queued: Promise<void> | undefined;
  /** the sync that runs, which the queued one waits for */
  private running: Promise<void> | undefined;
  /** syncs of one descriptor let run alone, in flight */
  private alone = 0;
  /** of those, the ones started in this turn of the event loop */
  private aloneThisTurn = 0;

  constructor(
    private readonly call: SyncfsCall,
    /** a sync of one descriptor: for callers synced alone, and after each syncfs for its flush of the disk's cache */
    private readonly syncOne: DescriptorSync = syncDescriptor,
  ) {}

  /** Syncs what `fd` holds: alone when nothing contends (see above), otherwise through the group. */
  sync(fd: number, dataOnly: boolean): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running === undefined && this.alone === this.aloneThisTurn) return this.syncAlone(fd, dataOnly);
    return this.join(fd);
  }

  private syncAlone(fd: number, dataOnly: boolean): Promise<void> {
    this.alone++;
    if (this.aloneThisTurn++ === 0)
      setImmediate(() => {
        this.aloneThisTurn = 0;
      });
    const synced = this.syncOne(fd, dataOnly);
    const settle = (): void => {
      this.alone--;
    };
    synced.then(settle, settle);
    return synced;
  }

  /** Waits for a syncfs that starts after this call. */
  join(fd: number): Promise<void> {
    if (this.queued) return this.queued;
    // fd stays open until this sync is done: its caller (the first to join) closes it only after awaiting it
    const queued: Promise<void> = (this.running ?? Promise.resolve())
      .then(noop, noop)
      .then(() => {
        if (this.queued === queued) this.queued = undefined;
        const run = this.syncFilesystem(fd);
        this.running = run;
        const clear = (): void => {
          if (this.running === run) this.running = undefined;
        };
        run.then(clear, clear);
        return run;
      });
    this.queued = queued;
    return queued;
  }

  private async syncFilesystem(fd: number): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.call.async(fd, (err, result) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else if (result !== 0) reject(Object.assign(new Error("syncfs of the storage's filesystem failed"), { code: 'EIO' }));
        else resolve();
      }),
    );
    // the flush that covers the block device's buffers syncfs wrote after its own flush (ext4 without a journal)
    await this.syncOne(fd, true);
  }
}

const noop = (): void => undefined;

let dirtyReadAt = Number.NEGATIVE_INFINITY;
let dirtyLarge = false;

/** Whether the page cache holds more unwritten data than a syncfs should carry (read at most every 100 ms). */
function dirtyMemoryIsLarge(): boolean {
  const now = performance.now();
  if (now - dirtyReadAt < DIRTY_READING_MS) return dirtyLarge;
  dirtyReadAt = now;
  try {
    dirtyLarge = unwrittenBytes(readFileSync('/proc/meminfo', 'latin1')) > DIRTY_LIMIT_BYTES;
  } catch {
    dirtyLarge = false;
  }
  return dirtyLarge;
}

/** Dirty plus Writeback from /proc/meminfo's text, in bytes. */
export function unwrittenBytes(meminfo: string): number {
  let kib = 0;
  for (const key of ['Dirty:', 'Writeback:']) {
    const at = meminfo.indexOf(`\n${key}`);
    if (at >= 0) kib += Number.parseInt(meminfo.slice(at + key.length + 1).trimStart(), 10) || 0;
  }
  return kib * 1024;
}
