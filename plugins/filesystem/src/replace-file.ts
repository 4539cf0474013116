/**
 * Replacing a file whole, for the driver's puts into an existing folder and for listing files: the content is
 * written to a temporary beside the file (temporaries.ts: hidden from listings, removed by upload purging if a
 * crash leaves it) and renamed over it, so a reader finds the old content or the new one, never a mix.
 */
import { renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { syncDirectory, writeNewFileDurably, writeNewFileUnsynced } from './fsync.js';
import { temporaryPathOf } from './temporaries.js';

/**
 * Replaces (or creates) `file` with `content`. `durable`: the data and the rename are on stable storage when
 * it resolves. False, with nothing written, when `file`'s folder does not exist. A failed write or an abort
 * before the rename removes the temporary.
 */
export async function replaceFile(file: string, content: Uint8Array, durable: boolean, signal?: AbortSignal): Promise<boolean> {
  const temp = temporaryPathOf(file);
  try {
    if (!(await (durable ? writeNewFileDurably(temp, content, signal) : writeNewFileUnsynced(temp, content, signal)))) return false;
    // the last moment to stop: after the rename the new content is in place
    signal?.throwIfAborted();
    // name operations are synchronous: they wait for no disk (see fsync.ts)
    renameSync(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  if (durable) await syncDirectory(file);
  return true;
}
