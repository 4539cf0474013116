/**
 * A put of the bytes a file already holds: the file is kept and only its times are advanced, durably. The
 * registry rewrites links whose content does not change on every push (a manifest's revision link when the
 * same manifest is pushed under another tag, a repository's layer link when a blob is pushed again), and
 * garbage collection and retention read a link's modification time as the time of its last push; a rewrite
 * made a new file, a data sync, a rename and a folder sync for that, where a time update and a sync of
 * the file (with its folder, side by side) keep the same promise.
 */
import { closeSync, fstatSync, futimesSync, openSync, readSync } from 'node:fs';
import { syncDirectory } from './fsync.js';
import { syncSmallChange } from './group-sync.js';

/** Larger contents are written anew: comparing them would cost what writing them does. */
const LARGEST_COMPARED = 64 * 1024;

/**
 * When `file` holds exactly `content`: advances its times to now, syncs the file (times included) and its
 * folder (the name may come from a put that has not synced it yet), and answers true. False, having
 * changed nothing, when the file is missing, is something else, or holds other bytes.
 */
export async function touchIfUnchanged(file: string, content: Uint8Array): Promise<boolean> {
  if (content.length > LARGEST_COMPARED) return false;
  const fd = openHoldingSync(file, content);
  if (fd === undefined) return false;
  try {
    const now = new Date();
    futimesSync(fd, now, now);
    await Promise.all([syncSmallChange(fd, false), syncDirectory(file)]);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A descriptor of `file` when it is a file holding `content` (the caller closes it); undefined otherwise. */
function openHoldingSync(file: string, content: Uint8Array): number | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  let same = false;
  try {
    const info = fstatSync(fd);
    if (info.isFile() && info.size === content.length) {
      const held = Buffer.allocUnsafe(content.length);
      let filled = 0;
      while (filled < held.length) {
        const read = readSync(fd, held, filled, held.length - filled, filled);
        if (read === 0) break;
        filled += read;
      }
      same = filled === content.length && held.equals(content);
    }
  } catch {
    same = false;
  }
  if (!same) {
    closeSync(fd);
    return undefined;
  }
  return fd;
}
