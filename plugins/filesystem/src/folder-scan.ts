/**
 * Reads a folder's names as a stream, in the order the filesystem keeps them, without building or sorting
 * the whole listing: what a page needs from a folder nobody has a sorted listing of yet.
 *
 * `fs.readdir` (libuv's scandir) mallocs every entry and sorts them with `strcmp` in C before Node makes the
 * strings, and the caller then sorts them again by code unit: for the 100,000 entries of a large tag folder
 * that sort, the allocations and the copy were about half of the 55-65 ms of CPU one listing cost
 * (docs/bench.md, "Tag pages of 100 from 100,000 tags, cold"). A `Dir` read a batch at a time costs about half.
 */
import { type Dir, opendirSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** entries read per call into the kernel; past a few thousand Node's `Dir` slows down (it shifts its buffer) */
const BATCH = 1024;

/**
 * Calls `visit` with every name in `folder` (without `.` and `..`), a batch at a time, giving the event
 * loop a turn between batches so that other requests are not held up for the whole folder. Rejects as
 * `readdir` does (ENOENT, ENOTDIR). Names added or removed while it runs may or may not be visited, as
 * with `readdir`.
 */
export async function scanFolder(folder: string, visit: (name: string) => void): Promise<void> {
  const dir = opendirSync(folder, { bufferSize: BATCH });
  try {
    while (visitBatch(dir, visit)) await nextTurn();
  } finally {
    dir.closeSync();
  }
}

/**
 * Visits up to one batch of entries; false once the folder is read to its end. Kept apart from the async
 * loop above: V8 optimises this small synchronous loop early (on-stack replacement) and in about a
 * millisecond, where the same loop inside the async function compiled for 10-30 ms on the first large
 * folder and ran unoptimised meanwhile (docs/bench.md, "Tag pages, seventh pass").
 */
function visitBatch(dir: Dir, visit: (name: string) => void): boolean {
  for (let visited = 0; visited < BATCH; visited++) {
    const entry = dir.readSync();
    if (entry === null) return false;
    visit(entry.name);
  }
  return true;
}
