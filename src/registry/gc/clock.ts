/** The collector's notion of time, injectable so tests drive grace periods instead of waiting them out. */
export interface GcClock {
  now(): Date;
  /** waits `ms` of this clock's time */
  sleep(ms: number): Promise<void>;
}

export const systemClock: GcClock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
