/**
 * `http.workers`: how many processes serve the API, and which one this process is. With more than one, the
 * process `stowage serve` started is a primary that only supervises (src/cli/worker-supervisor.ts) and each
 * worker is a node:cluster child running the whole server (src/cli/serve.ts) on the same address. Everything
 * a request touches is in storage, which the workers share as several processes on one storage always could
 * (upload claims, links): any worker can continue an upload another began. What must happen once, not once
 * per worker, is placed here.
 */
import cluster from 'node:cluster';
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StowageConfig } from '../config/index.js';

/** the environment variable the primary gives each worker its index in */
export const WORKER_INDEX_ENV = 'STOWAGE_WORKER_INDEX';

/** `http.workers` as a number: `auto` is one per CPU the process may use; absent, 1 */
export function workerCount(config: StowageConfig): number {
  const setting = config.http.workers ?? 1;
  return setting === 'auto' ? Math.max(1, os.availableParallelism()) : setting;
}

/** Where this process stands among the workers; undefined when it serves alone (no workers). */
export interface WorkerRole {
  /** 0 .. count-1; a worker that replaces a crashed one gets the index of the one it replaces */
  readonly index: number;
  readonly count: number;
}

export function workerRole(config: StowageConfig): WorkerRole | undefined {
  if (!cluster.isWorker) return undefined;
  const index = Number(process.env[WORKER_INDEX_ENV]);
  return { index: Number.isInteger(index) && index >= 0 ? index : 0, count: workerCount(config) };
}

/** Upload purging and online gc walk the whole storage: worker 0 runs them, the others do not. */
export const runsPeriodicTasks = (role: WorkerRole | undefined): boolean => role === undefined || role.index === 0;

/**
 * A worker's own notification queue folder (`<queuedir>/worker-<index>`): a disk queue has one owner. A
 * replacement worker takes over the queue of the one it replaces, so events left by a crash are still sent.
 */
export const workerQueueDir = (queuedir: string, role: WorkerRole | undefined): string => (role ? path.join(queuedir, `worker-${role.index}`) : queuedir);

/**
 * Queue folders no running process owns, which worker 0 (or a process serving alone) drains into its own
 * queues at start so that events queued before a restart with fewer workers are still sent: every
 * `<queuedir>/worker-<n>` with n at or past the worker count (serving alone: every one), and, under workers,
 * `<queuedir>` itself, where a process that served alone kept its endpoints' folders.
 */
export async function orphanedQueueRoots(queuedir: string, role: WorkerRole | undefined): Promise<string[]> {
  if (role && role.index !== 0) return [];
  const roots: string[] = [];
  for (const entry of await readdir(queuedir, { withFileTypes: true }).catch(() => [])) {
    const index = /^worker-(\d+)$/.exec(entry.name)?.[1];
    if (entry.isDirectory() && index !== undefined && (!role || Number(index) >= role.count)) roots.push(path.join(queuedir, entry.name));
  }
  if (role) roots.push(queuedir);
  return roots;
}
