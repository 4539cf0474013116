/**
 * Making names durable: a rename or a new file is on stable storage only once its directory is synced, and a
 * new directory only once its parent is. Concurrent uploads sync the same directories over and over (a
 * repository's `_layers/sha256`, `_uploads`, a blob prefix folder), so directory syncs are a group commit:
 * a sync asked for while one of the same directory is running waits for the next one, and every request that
 * arrives before that next one starts shares it. Each caller still returns only after a sync that started
 * after its own change.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { syncDescriptor } from './descriptor-sync.js';
import { syncSmallChange } from './group-sync.js';

interface DirectorySync {
  /** set when the sync has been started: later requests must wait for a fresh one */
  started: boolean;
  readonly done: Promise<void>;
}

/** per directory: the sync that a new request joins (queued or, when none is queued, running) */
const pending = new Map<string, DirectorySync>();
/** per directory: the sync that is running, which a queued one waits for */
const running = new Map<string, Promise<void>>();

/**
 * Syncs `dir` on its own, outside the folder group commit below: for a folder nobody else syncs (a put's staged
 * folder, under a name of its own), where joining a group would only cost the queue's promises and map entries.
 * Like every folder sync and small file's sync, it goes through its filesystem's syncfs group where there is
 * one (group-sync.ts).
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await syncSmallChange(fd, false);
  } finally {
    closeSync(fd);
  }
}

/** Resolves once `dir` was synced by a sync that started after this call. */
export function syncDirectoryOf(dir: string): Promise<void> {
  const queued = pending.get(dir);
  if (queued && !queued.started) return queued.done;
  const before = running.get(dir) ?? Promise.resolve();
  const next: DirectorySync = {
    started: false,
    done: before
      .catch(() => undefined)
      .then(async () => {
        next.started = true;
        if (pending.get(dir) === next) pending.delete(dir);
        const run = fsyncDirectory(dir);
        running.set(dir, run);
        try {
          await run;
        } finally {
          if (running.get(dir) === run) running.delete(dir);
        }
      }),
  };
  pending.set(dir, next);
  return next.done;
}

/** Makes a rename or a new file `file` durable (its directory entry, not its data). */
export const syncDirectory = (file: string): Promise<void> => syncDirectoryOf(dirname(file));

/**
 * `mkdir -p dirname(file)`, durably: every directory it created is synced (it holds the next one) and so is
 * the parent of the first one, so the new folders survive a crash. The caller syncs the last folder itself
 * after putting its file there.
 */
export async function makeParentDirectories(file: string): Promise<void> {
  const dir = dirname(file);
  const first = mkdirSync(dir, { recursive: true });
  if (first === undefined) return;
  const created = [first];
  const below = relative(first, dir);
  if (below !== '') {
    let path = first;
    for (const segment of below.split(sep)) {
      path = `${path}${sep}${segment}`;
      created.push(path);
    }
  }
  await Promise.all([dirname(first), ...created.slice(0, -1)].map(syncDirectoryOf));
}

/** Contents up to this size are written by writeNewFileDurably in one synchronous write (see descriptor-sync.ts). */
const SMALL_FILE_BYTES = 64 * 1024;

/**
 * Creates `file` (exclusively: EEXIST when it is there) holding `content` and syncs its data; the caller
 * renames it into place and syncs the folder. False, with nothing created, when the folder does not exist.
 * `alongside` (the syncs of folders staged around the new file) starts once the file exists and runs
 * side by side with its data sync: both only have to be done before the rename that shows the file, so a
 * caller waits for one round of syncs instead of two.
 */
export async function writeNewFileDurably(file: string, content: Uint8Array, signal?: AbortSignal, alongside?: () => Promise<unknown>): Promise<boolean> {
  signal?.throwIfAborted();
  if (content.length > SMALL_FILE_BYTES) return writeNewFile(file, content, signal, alongside);
  const fd = createSmallFile(file, content);
  if (fd === undefined) return false;
  try {
    await Promise.all([syncSmallChange(fd, true), alongside?.()]);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Creates `file` (exclusively) holding `content`, without syncing anything: for putVolatile, whose object may
 * be lost in a crash. Synchronous up to SMALL_FILE_BYTES, so a small one costs no thread-pool round trip.
 * False, with nothing created, when the folder does not exist.
 */
export async function writeNewFileUnsynced(file: string, content: Uint8Array, signal?: AbortSignal): Promise<boolean> {
  signal?.throwIfAborted();
  if (content.length > SMALL_FILE_BYTES) return writeNewFile(file, content, signal, undefined, false);
  const fd = createSmallFile(file, content);
  if (fd === undefined) return false;
  closeSync(fd);
  return true;
}

/**
 * Creates `file` exclusively holding `content` with synchronous calls, and returns its open descriptor;
 * undefined, with nothing created, when the folder does not exist. The caller closes the descriptor.
 */
function createSmallFile(file: string, content: Uint8Array): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    writeAllSync(fd, content);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Syncs the data of the existing file `file` (opened read-only: fdatasync needs no write access). */
export async function syncFileAt(file: string): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    await syncDescriptor(fd, true);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `bytes` at the descriptor's position, synchronously (a write may take fewer bytes than asked). */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

async function writeNewFile(file: string, content: Uint8Array, signal?: AbortSignal, alongside?: () => Promise<unknown>, durable = true): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    await handle.writeFile(content, { signal });
    if (durable) await Promise.all([syncFileData(handle), alongside?.()]);
  } finally {
    await handle.close();
  }
  return true;
}

/** A file's data on stable storage: fdatasync (the size is included; timestamps are not needed). */
export async function syncFileData(handle: { datasync(): Promise<void> }): Promise<void> {
  await handle.datasync();
}
