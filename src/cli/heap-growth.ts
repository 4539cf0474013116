/**
 * How far V8 lets the old generation grow past what a full collection found live, for `stowage serve`.
 *
 * V8 sets the next full collection's trigger at the live old generation times a factor it picks from how fast
 * the program allocates against how fast it collects, up to 4 on a machine with memory to spare: with the
 * 16-20 MiB stowage keeps live, 64-80 MiB of old generation before the next mark-compact. Under many
 * concurrent uploads the young generation's survivors are promoted there at hundreds of MiB a run (V8 tenures
 * an allocation site when its objects are still alive at a scavenge, as an upload's are during the upload, and
 * an object allocated old keeps the young objects it points at alive through scavenges after it is dead), so
 * the old generation filled to that trigger and stayed there: it was most of the peak resident set's excess
 * over distribution's (docs/bench.md, "Peak RSS, fourth pass"). A factor of 1.5 starts a mark-compact once
 * about half the live size is promoted: more of them under that load (each a few ms, mostly marked on V8's
 * helper threads), and about 50 MiB less at the peak.
 *
 * V8 reads the factor at every mark-compact, so setting it from inside the running process takes effect (it is
 * not one of the options node accepts in NODE_OPTIONS, and `node bin/stowage.js` starts without the wrapper).
 */
import v8 from 'node:v8';

/** Old generation allowed, as a percentage above what the last mark-compact left live. */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Caps V8's old-generation growth factor at 1 + HEAP_GROWING_PERCENT / 100, unless node was started with its own
 * `--heap-growing-percent` (`node --heap-growing-percent=0 bin/stowage.js serve` restores V8's own choice).
 * Answers whether it set it.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
