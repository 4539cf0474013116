// The bench's rounds: which registry goes first in each round, and how the rounds become one figure.
import { describe, expect, it } from 'vitest';
import { mergeRounds, orderOf, ratiosByRound } from '../../bench/rounds.js';

describe('bench rounds', () => {
  it('reverses the order of the registries every other round, so none is always first', () => {
    const targets = ['distribution', 'stowage', 'baseline'];
    const firsts = [0, 1, 2, 3].map((round) => orderOf(targets, round)[0]);
    expect(firsts).toEqual(['distribution', 'baseline', 'distribution', 'baseline']);
    expect(orderOf(['distribution', 'stowage'], 1)).toEqual(['stowage', 'distribution']);
    expect(targets).toEqual(['distribution', 'stowage', 'baseline']);
  });

  it('pools the samples and the CPU of timed rounds', () => {
    const merged = mergeRounds([
      { result: { samples: [1, 2], bytesPerOp: 10 }, cpuMs: 30 },
      { result: { samples: [3], bytesPerOp: 10 }, cpuMs: 12 },
    ]);
    expect(merged.result.samples).toEqual([1, 2, 3]);
    expect(merged.result.bytesPerOp).toBe(10);
    expect(merged.result.wallMs).toBeUndefined();
    expect(merged.cpuMs).toBe(42);
  });

  it('sums wall times and counts, and keeps the higher of a load generator\'s percentiles', () => {
    const merged = mergeRounds([
      { result: { count: 100, wallMs: 1000, percentiles: { p50: 2, p95: 9, p99: 14 }, generator: 'wrk' }, cpuMs: 5 },
      { result: { count: 50, wallMs: 1500, percentiles: { p50: 3, p95: 8, p99: 20 }, generator: 'wrk' }, cpuMs: 6 },
    ]);
    expect(merged.result).toMatchObject({ count: 150, wallMs: 2500, percentiles: { p50: 3, p95: 9, p99: 20 }, generator: 'wrk' });
    expect(merged.result.samples).toBeUndefined();
  });

  it('sets each round of a registry against the same round of the reference, leaving out scenarios run once', () => {
    const rounds = (...opsPerSecond: number[]) => ({ rounds: opsPerSecond.map((ops) => ({ opsPerSecond: ops })) });
    const results = {
      distribution: { scenarios: { small: rounds(300, 200), walk: rounds(5) } },
      stowage: { scenarios: { small: rounds(900, 1000), walk: rounds(50) } },
      baseline: { scenarios: { small: rounds(600) } },
      ceiling: { mbPerSecond: 800 },
    };
    const byRound = ratiosByRound(results) as Record<string, Record<string, number[]>>;
    expect(Object.keys(byRound)).toEqual(['small']);
    expect(byRound.small!.stowage).toEqual([3, 5]);
    expect(byRound.small!.baseline![0]).toBe(2);
    expect(byRound.small!.baseline![1]).toBeNaN();
    expect(byRound.small).not.toHaveProperty('ceiling');
  });
});
