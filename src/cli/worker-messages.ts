/** What a worker tells its primary over the cluster IPC channel (src/cli/workers.ts). */
import type { HealthStatus, HealthView } from '../ops/health.js';

/** sent once the worker's server listens; `url` and `storage` for the primary's start-up line */
export interface WorkerListening {
  readonly stowage: 'listening';
  readonly url: string;
  readonly storage: string;
}

/** sent when the worker's health changes (and right after it listens) */
export interface WorkerHealth extends HealthStatus {
  readonly stowage: 'health';
  readonly ready: boolean;
}

export type WorkerMessage = WorkerListening | WorkerHealth;

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const kind = (message as { stowage?: unknown } | null)?.stowage;
  return kind === 'listening' || kind === 'health';
}

/** how often a worker looks whether its health changed */
const HEALTH_EVERY_MS = 500;

/** Tells the primary this worker listens, then its health whenever it changes; returns a stop function. */
export function reportToPrimary(listening: Omit<WorkerListening, 'stowage'>, health: HealthView): () => void {
  const send = (message: WorkerMessage): void => {
    // the channel is gone when the primary is: the worker is about to exit anyway
    if (process.connected) process.send?.(message);
  };
  send({ stowage: 'listening', ...listening });
  let last = '';
  const report = (): void => {
    const message: WorkerHealth = { stowage: 'health', ...health.status(), ready: health.ready() };
    const text = JSON.stringify(message);
    if (text === last) return;
    last = text;
    send(message);
  };
  report();
  const timer = setInterval(report, HEALTH_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    report();
  };
}
