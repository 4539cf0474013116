/**
 * How the filesystem under a folder stamps change times, found out once by changing a probe file there:
 * what settled-times.ts needs to know before it trusts times to tell a later change apart.
 *
 * Linux stamps a change from its coarse clock, which moves once per scheduler tick (CONFIG_HZ: 100 to 1000,
 * so 1 to 10 ms; the clock steps by whole ticks, never less than 1 ms): two changes within a tick can leave
 * the same times. Since Linux 6.13, ext4, xfs, btrfs and tmpfs stamp with multigrain times
 * (Documentation/filesystems/multigrain-ts.rst): once a stat has seen a file's change time, the next change
 * takes a fine-grained time if the coarse one would not be later, so any change after a stat leaves a change
 * time later than the one the stat saw, whatever the tick.
 *
 * The probe stats the file and changes it, 16 times over. On a filesystem stamped from the coarse clock
 * alone, a change that leaves the change time as it was shows it at once. When every change leaves a later
 * time and the 16 took less than 1 ms (less than the shortest possible tick, so the coarse clock moved at
 * most once among them), the times are multigrain. Otherwise the tick is measured: the smallest step between
 * the distinct times successive changes leave. The driver probes once, at its first listing or stamp: well
 * under a millisecond with multigrain times, up to about four ticks (40 ms at most) of writes otherwise.
 */
import { closeSync, fstatSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { temporaryPathOf } from './temporaries.js';

export type Stamping =
  /** a change after a stat always leaves later times than the stat saw (multigrain times) */
  | { readonly kind: 'later after a stat' }
  /** times come from a clock that moves by `tickMs`: changes within one tick may leave the same times */
  | { readonly kind: 'coarse'; readonly tickMs: number };

/** stat-then-change rounds of one multigrain check, and how many checks may be cut short by a slow round */
const ROUNDS = 16;
const CHECKS = 8;
/** below the shortest tick Linux has (CONFIG_HZ=1000) */
const CHECK_WITHIN_NS = 1_000_000n;
/** how long the tick measurement may take at most: three steps of a 10 ms tick and more */
const MEASURE_WITHIN_MS = 100;
const STEPS_MEASURED = 3;

const BYTE = Buffer.from('s');

/**
 * How the filesystem holding `folder` stamps times; undefined when it could not be found out (the folder
 * missing or not writable, or no step seen in time): the caller then assumes the longest wait.
 */
export function probeStamping(folder: string): Stamping | undefined {
  const file = temporaryPathOf(join(folder, 'stamp-probe'));
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch {
    return undefined;
  }
  try {
    for (let check = 0; check < CHECKS; check++) {
      const later = everyChangeLaterAfterStat(fd);
      if (later === true) return { kind: 'later after a stat' };
      if (later === false) break;
    }
    const tickMs = measureTick(fd);
    return tickMs === undefined ? undefined : { kind: 'coarse', tickMs };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}

/** false: a change left the time a stat saw; true: none did, within 1 ms; undefined: too slow to tell */
function everyChangeLaterAfterStat(fd: number): boolean | undefined {
  const started = process.hrtime.bigint();
  let seen = fstatSync(fd, { bigint: true }).ctimeNs;
  for (let round = 0; round < ROUNDS; round++) {
    writeSync(fd, BYTE, 0, 1, 0);
    const now = fstatSync(fd, { bigint: true }).ctimeNs;
    if (now <= seen) return false;
    seen = now;
  }
  return process.hrtime.bigint() - started < CHECK_WITHIN_NS ? true : undefined;
}

/** the smallest step between distinct change times of successive changes, in ms (at least the 1 ms any tick is) */
function measureTick(fd: number): number | undefined {
  const until = Date.now() + MEASURE_WITHIN_MS;
  let last = fstatSync(fd, { bigint: true }).ctimeNs;
  // the first step runs from the file's creation, part-way through a tick
  let first = true;
  let smallest: bigint | undefined;
  let measured = 0;
  while (measured < STEPS_MEASURED && Date.now() < until) {
    writeSync(fd, BYTE, 0, 1, 0);
    const now = fstatSync(fd, { bigint: true }).ctimeNs;
    if (now === last) continue;
    if (!first && now > last) {
      measured++;
      if (smallest === undefined || now - last < smallest) smallest = now - last;
    }
    first = false;
    last = now;
  }
  return smallest === undefined || measured < STEPS_MEASURED ? undefined : Math.max(1, Number(smallest) / 1e6);
}
