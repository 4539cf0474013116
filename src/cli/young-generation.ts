/**
 * A serving process keeps V8's young generation at its starting size (two 1 MiB semi-spaces).
 *
 * Under many uploads V8 grows the young generation to 16 MiB per semi-space (32 MiB resident) because
 * request pieces and their wrappers are allocated quickly, though almost all of them die before the next
 * scavenge anyway; the large young generation then holds that memory for the life of the process. The
 * size V8 may reach (`--max-semi-space-size`) is fixed when the heap is created and cannot be changed from
 * inside the process, but the factor by which it grows can: set to 1, it never grows (docs/bench.md has
 * the measurements). An operator who chose the young generation's size with node options keeps that choice.
 */
import v8 from 'node:v8';

const YOUNG_GENERATION_FLAG = /^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/** Whether node's own options (`execArgv`, `NODE_OPTIONS`) already set the young generation's size. */
export function youngGenerationChosen(execArgv: readonly string[], nodeOptions: string): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => YOUNG_GENERATION_FLAG.test(flag.replaceAll('_', '-')));
}

/** Stops the young generation from growing, unless node's options chose its size; answers whether it did. */
export function keepYoungGenerationSmall(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): boolean {
  if (youngGenerationChosen(execArgv, nodeOptions)) return false;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
