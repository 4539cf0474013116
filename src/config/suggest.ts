/**
 * "Did you mean …?" for a name the operator mistyped: a driver name, a config key, a driver option. The
 * nearest candidate by edit distance, offered only when it is close enough to be a typo (a transposition or
 * a letter or two for a short name) rather than a different word.
 */
import { distance } from 'fastest-levenshtein';

/** the closest candidate to `name`, or undefined when none is close enough to be what was meant */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const typed = name.toLowerCase();
  // up to one edit in four, at least one: `ufiel` (2: a transposition) for `ufile`, `htpp` for `http`
  const allowed = Math.max(1, Math.floor(typed.length / 4)) + (typed.length >= 4 ? 1 : 0);
  let best: { name: string; distance: number } | undefined;
  for (const candidate of new Set(candidates)) {
    if (candidate === name) continue;
    const d = distance(typed, candidate.toLowerCase());
    if (d <= allowed && (best === undefined || d < best.distance)) best = { name: candidate, distance: d };
  }
  return best?.name;
}

/** ` (did you mean "x"?)`, or nothing, for appending to a message */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const hit = closestName(name, candidates);
  return hit === undefined ? '' : ` (did you mean "${hit}"?)`;
}
