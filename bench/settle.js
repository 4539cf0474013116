// Before each timed run: the machine brought to the same quiet state whichever registry runs, so that one
// registry's leftovers do not land on the other's figures. Distribution 2.8 never syncs what it writes, so
// its pushes leave gigabytes dirty for the kernel to write back during whatever runs next; stowage's syncs
// leave little. And in the short single-request scenarios the registry measured second was up to a quarter
// faster (docs/bench.md, "The December 7 midday run"): the first one shared the cores with the previous
// scenario's writeback and collections.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

/** busy and total jiffies of all CPUs together (/proc/stat's first line) */
async function cpuTicks() {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the not-busy ones
  return { busy: total - fields[3] - (fields[4] ?? 0), total };
}

/**
 * Writes back every dirty page (`sync`), then waits until the CPUs were at most `idleShare` busy over one
 * `windowMs` window, for at most `maxWaitMs` (the machine may be shared). Answers the time it took and
 * whether the CPUs went quiet.
 */
export async function settle({ idleShare = 0.1, windowMs = 200, maxWaitMs = 3000 } = {}) {
  const started = performance.now();
  await promisify(execFile)('sync');
  for (;;) {
    const before = await cpuTicks();
    await delay(windowMs);
    const after = await cpuTicks();
    const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    const waitedMs = performance.now() - started;
    if (share <= idleShare) return { waitedMs, quiet: true };
    if (waitedMs >= maxWaitMs) return { waitedMs, quiet: false, busyShare: share };
  }
}
