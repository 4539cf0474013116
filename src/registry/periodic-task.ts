/**
 * A maintenance task run on a timer while the server is up (upload purging, online garbage collection).
 * The first run comes after a random delay of up to a minute (bounded by the interval), so replicas started
 * together do not all walk the storage at once; later runs every interval, counted from the end of the last.
 */
export interface PeriodicTask {
  /** stops the timer and waits for a run in progress */
  stop(): Promise<void>;
}

/** `run` must not throw: it logs its own failures, since the next run is its retry. */
export function startPeriodicTask(intervalMs: number, run: () => Promise<void>, random = Math.random): PeriodicTask {
  let running: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = run().finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
    }, delayMs);
    timer.unref();
  };
  schedule(Math.floor(random() * Math.min(intervalMs, 60_000)));
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
