/**
 * Durations in driver options, read the one way every built-in driver reads them: a Go duration string as
 * distribution's config.yml writes them (`30s`, `5m`, `1h30m`, `250ms`, `1.5s`), or a bare number of
 * SECONDS (the unit of the seed docker-registry drivers' `*_timeout` keys). Plugins declare the same rule in
 * their schema.json (see DURATION_PATTERN), so `stowage config check` refuses a bad value before any
 * driver starts; this parser is the run-time half, for drivers built directly.
 */

/** milliseconds per Go duration unit */
const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** a Go duration string (`1h30m`, `250ms`, `1.5s`) */
export const GO_DURATION_PATTERN = '^(?:[0-9]+(?:\\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$';

/** the words every duration error uses, so the operator always learns the unit of a bare number */
export const DURATION_EXPECTED = 'a duration such as 30s, 5m, 1h30m or 250ms, or a bare number of seconds';

export interface DurationRule {
  /** the option's name, for the error */
  readonly option: string;
  /** milliseconds when the option is absent or empty */
  readonly defaultMs: number;
  /** the smallest duration accepted, in milliseconds (default 0) */
  readonly minMs?: number;
  /**
   * the largest bare number accepted, in seconds: for options whose bare numbers once meant milliseconds,
   * where a large bare number is more likely an old millisecond value than a duration of hours
   */
  readonly maxBareSeconds?: number;
  /** whether a string holding a bare number (`"60"`, from an environment variable) is accepted (default true) */
  readonly bareStrings?: boolean;
}

export class DurationError extends Error {
  override readonly name = 'DurationError';
  constructor(readonly option: string, message: string) {
    super(`option ${option}: ${message}`);
  }
}

/** Go's time.ParseDuration, to milliseconds; undefined when `text` is not a Go duration */
export function parseGoDurationMs(text: string): number | undefined {
  if (!new RegExp(GO_DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** The option's value in milliseconds, or a DurationError naming the option and the units expected. */
export function durationMs(value: unknown, rule: DurationRule): number {
  if (value === undefined || value === null || value === '') return rule.defaultMs;
  const got = JSON.stringify(value);
  const bareText = typeof value === 'string' && /^[0-9]+(?:\.[0-9]+)?$/.test(value.trim());
  let ms: number | undefined;
  if (typeof value === 'number' || (bareText && rule.bareStrings !== false)) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds)) throw new DurationError(rule.option, `expected ${DURATION_EXPECTED}, got ${got}`);
    if (rule.maxBareSeconds !== undefined && seconds > rule.maxBareSeconds) {
      throw new DurationError(
        rule.option,
        `a bare number is seconds, and ${got} is more than ${rule.maxBareSeconds} seconds: write the unit (${seconds}ms if milliseconds were meant, ${seconds}s if seconds)`,
      );
    }
    ms = seconds * 1000;
  } else if (typeof value === 'string') {
    ms = parseGoDurationMs(value.trim());
  }
  if (ms === undefined) throw new DurationError(rule.option, `expected ${DURATION_EXPECTED}, got ${got}`);
  const min = rule.minMs ?? 0;
  if (ms < min) throw new DurationError(rule.option, `expected ${DURATION_EXPECTED}, at least ${min}ms, got ${got}`);
  return ms;
}
