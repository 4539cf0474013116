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

/**
 * Each round's throughput ratio against `reference`, per scenario: `{ scenario: { target: [round 1, round 2, ...] } }`,
 * from the results run.js keeps (each scenario's `rounds`, ops/s by round). Why a pooled figure moved shows
 * here: a registry's first round of a scenario can pay what its later rounds do not (code not yet compiled).
 * Scenarios run once (no rounds to set side by side) are left out.
 */
export function ratiosByRound(results, reference = 'distribution') {
  const others = Object.keys(results).filter((target) => target !== reference && results[target].scenarios);
  const out = {};
  for (const [name, theirs] of Object.entries(results[reference]?.scenarios ?? {})) {
    if (!theirs.rounds || theirs.rounds.length < 2) continue;
    out[name] = {};
    for (const target of others) {
      const ours = results[target].scenarios[name]?.rounds;
      if (!ours) continue;
      out[name][target] = theirs.rounds.map((round, i) => (ours[i] ? ours[i].opsPerSecond / round.opsPerSecond : NaN));
    }
  }
  return out;
}
