import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseDurationMs } from '../../src/registry/duration.js';
import { startUploadPurger } from '../../src/registry/upload-purger.js';
import { silentLogger } from '../../src/registry/logger.js';

describe('Go durations', () => {
  it('reads the forms distribution configs use', () => {
    expect(parseDurationMs('168h')).toBe(168 * 3_600_000);
    expect(parseDurationMs('1h30m')).toBe(90 * 60_000);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('250ms')).toBe(250);
  });
  it('refuses anything else, saying what it wanted', () => {
    for (const bad of ['', '10', '1d', 'h', '1h 30m', '-1h']) expect(() => parseDurationMs(bad)).toThrow(/expected a duration such as 24h/);
  });
});

describe('the upload purger', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  const settings = { enabled: true, age: '2h', interval: '1h', dryrun: false };

  it('purges sessions older than the age, first after a jitter of at most a minute and then every interval', async () => {
    const calls: { olderThan: Date; dryRun: boolean }[] = [];
    const purger = startUploadPurger({ purgeUploads: async (olderThan, dryRun) => (calls.push({ olderThan, dryRun }), { purged: [], temporaries: [] }) }, settings, silentLogger, () => 0.5);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.olderThan.toISOString()).toBe('2026-11-30T22:00:30.000Z');
    expect(calls[0]!.dryRun).toBe(false);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(calls).toHaveLength(2);
    await purger.stop();
    await vi.advanceTimersByTimeAsync(10 * 3_600_000);
    expect(calls).toHaveLength(2);
  });

  it('keeps its schedule when a purge fails, and does nothing when disabled', async () => {
    let attempts = 0;
    const failing = { purgeUploads: async () => { attempts += 1; throw new Error('backend down'); } };
    const purger = startUploadPurger(failing, settings, silentLogger, () => 0);
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(attempts).toBe(3);
    await purger.stop();

    let disabledCalls = 0;
    const off = startUploadPurger({ purgeUploads: async () => (disabledCalls++, { purged: [], temporaries: [] }) }, { ...settings, enabled: false }, silentLogger);
    await vi.advanceTimersByTimeAsync(48 * 3_600_000);
    expect(disabledCalls).toBe(0);
    await off.stop();
  });

  it('passes dryrun through', async () => {
    const seen: boolean[] = [];
    const purger = startUploadPurger({ purgeUploads: async (_at, dryRun) => (seen.push(dryRun), { purged: [], temporaries: [] }) }, { ...settings, dryrun: true }, silentLogger, () => 0);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([true]);
    await purger.stop();
  });
});
