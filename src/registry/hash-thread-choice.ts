/**
 * Whether uploads are hashed on the upload hash thread (upload-hash.ts) or on the request loop.
 *
 * On the 2-core bench machine a 256 MB push keeps the request loop busy for nearly all of its wall time
 * (socket reads, HTTP parsing, the copy into batches, sha256), while the second core has room: with the hash
 * on its own thread a push took 10-15 % less wall time for 5-7 % more server CPU (docs/bench.md, "Large
 * uploads, eighth pass"). That holds while a core is left over for the thread: with as many processes
 * serving as there are CPUs (`http.workers: auto`), or on one CPU, the thread's messages are only extra work.
 */
import os from 'node:os';

/**
 * `setting`: `http.hashthread` (absent is `auto`); `workers`: `http.workers` (absent is 1, `auto` one per CPU);
 * `cpus`: the CPUs this process may use.
 */
export function hashesOnThread(setting: boolean | 'auto' | undefined, workers: number | 'auto' | undefined, cpus: number = os.availableParallelism()): boolean {
  if (typeof setting === 'boolean') return setting;
  const processes = workers === 'auto' ? cpus : (workers ?? 1);
  return cpus > processes;
}
