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
import { type HashThread, uploadHashThread } from './upload-hash.js';

/**
 * `setting`: `http.hashthread` (absent is `auto`); `workers`: `http.workers` (absent is 1, `auto` one per CPU);
 * `cpus`: the CPUs this process may use.
 */
export function hashesOnThread(setting: boolean | 'auto' | undefined, workers: number | 'auto' | undefined, cpus: number = os.availableParallelism()): boolean {
  if (typeof setting === 'boolean') return setting;
  const processes = workers === 'auto' ? cpus : (workers ?? 1);
  return cpus > processes;
}

/**
 * Starts the upload hash thread when uploads will be hashed on it (same inputs as hashesOnThread): `stowage
 * serve` calls it once listening, so no upload waits for the thread to start. Answers whether it did.
 */
export function startUploadHashing(setting: boolean | 'auto' | undefined, workers: number | 'auto' | undefined, thread: HashThread = uploadHashThread, cpus?: number): boolean {
  if (!hashesOnThread(setting, workers, cpus)) return false;
  thread.start();
  return true;
}
