// Several rounds of a scenario, the registries' order reversed every other round, merged into one result:
// whichever registry runs first in a round runs last in the next, so neither is always first.

/** the order of `targets` in round `round` (0-based): as given, then reversed, and so on */
export const orderOf = (targets, round) => (round % 2 === 0 ? [...targets] : [...targets].reverse());

/**
 * One result from the rounds' results (each what a scenario's `run` answers) and their server CPU: the
 * samples of all rounds together, wall times and counts summed. A load generator's own percentiles
 * (bench/wrk.js) cannot be merged: the highest of the rounds is kept, the conservative reading.
 */
export function mergeRounds(rounds) {
  const merged = { ...rounds[0].result };
  if (rounds.some((round) => round.result.samples)) merged.samples = rounds.flatMap((round) => round.result.samples ?? []);
  if (rounds.every((round) => round.result.wallMs !== undefined)) merged.wallMs = rounds.reduce((sum, round) => sum + round.result.wallMs, 0);
  if (rounds.every((round) => round.result.count !== undefined)) merged.count = rounds.reduce((sum, round) => sum + round.result.count, 0);
  if (rounds.every((round) => round.result.percentiles)) {
    merged.percentiles = Object.fromEntries(Object.keys(rounds[0].result.percentiles).map((key) => [key, Math.max(...rounds.map((round) => round.result.percentiles[key]))]));
  }
  return { result: merged, cpuMs: rounds.reduce((sum, round) => sum + round.cpuMs, 0) };
}
