/**
 * Every built-in driver reads its durations one way: distribution's Go duration strings (`30s`, `5m`,
 * `1h30m`, `250ms`) or a bare number of seconds; a value that is neither is refused by `config check`
 * with the units named. The options are written in real config files and go through the real loader.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, durationMs, parseGoDurationMs } from '../../packages/backend-kit/src/duration.js';
import { resolveOptions as alioss } from '../../plugins/alioss/src/options.js';
import { resolveOptions as elliptics } from '../../plugins/elliptics/src/options.js';
import { resolveS3Options } from '../../plugins/s3/src/options.js';
import { resolveSwiftOptions } from '../../plugins/swift/src/options.js';
import { resolveOptions as ufile } from '../../plugins/ufile/src/options.js';
import { preparePlugin } from '../../src/plugins/index.js';
import { configFrom, tempDir } from './helpers.js';

const s3 = resolveS3Options;
const swift = (options: Parameters<typeof resolveSwiftOptions>[0]) => resolveSwiftOptions(options, '/');

/** a driver's required options, and which of its options are durations */
const DRIVERS = {
  ufile: { required: { baseurl: 'http://b.cn-bj.ufileos.com', publickey: 'p', privatekey: 'k' }, durations: ['timeout', 'retryinterval', 'redirectexpiry'] },
  alioss: { required: { accesskeyid: 'id', accesskeysecret: 's', bucket: 'my-bucket', region: 'oss-cn-hangzhou' }, durations: ['timeout', 'retryinterval', 'redirectexpiry'] },
  swift: { required: { authurl: 'http://127.0.0.1:8080/auth/v1.0', username: 'u', password: 'p', container: 'c' }, durations: ['timeout', 'connecttimeout', 'retrydelay'] },
  s3: { required: { region: 'us-east-1', bucket: 'b', accesskey: 'a', secretkey: 's' }, durations: ['timeout', 'connecttimeout', 'retrydelay'] },
  elliptics: { required: { nodes: ['127.0.0.1:1025:2'] }, durations: ['waittimeout', 'checktimeout'] },
} as const;

const yamlOf = (driver: string, options: Record<string, unknown>) => `storage:\n  ${driver}: ${JSON.stringify(options)}\n`;

async function check(driver: keyof typeof DRIVERS, extra: Record<string, unknown>): Promise<{ ok: true; options: Record<string, unknown> } | { ok: false; message: string }> {
  const work = await tempDir('durations');
  try {
    const config = await configFrom(work.dir, yamlOf(driver, { ...DRIVERS[driver].required, ...extra }));
    const plugin = await preparePlugin(config);
    return { ok: true, options: plugin.options };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    await work.remove();
  }
}

describe('durations in driver options', () => {
  it('parse as Go parses them: units add up, fractions allowed', () => {
    expect(parseGoDurationMs('30s')).toBe(30_000);
    expect(parseGoDurationMs('5m')).toBe(300_000);
    expect(parseGoDurationMs('1h30m')).toBe(5_400_000);
    expect(parseGoDurationMs('250ms')).toBe(250);
    expect(parseGoDurationMs('1.5s')).toBe(1500);
    expect(parseGoDurationMs('2h45m30s500ms')).toBe(2 * 3_600_000 + 45 * 60_000 + 30_500);
    for (const bad of ['', '30', 's', '30 s', '30sec', '-5s', '1d', '5M', '1h 30m']) expect(parseGoDurationMs(bad), bad).toBeUndefined();
  });

  it('add up whatever units are combined, in Go\'s order (property)', () => {
    const amount = fc.integer({ min: 0, max: 10_000 });
    fc.assert(
      fc.property(amount, amount, amount, amount, (h, m, s, ms) => {
        expect(parseGoDurationMs(`${h}h${m}m${s}s${ms}ms`)).toBe(h * 3_600_000 + m * 60_000 + s * 1000 + ms);
        expect(durationMs(`${m}m${s}s`, { option: 'timeout', defaultMs: 0 })).toBe(m * 60_000 + s * 1000);
        expect(durationMs(s, { option: 'timeout', defaultMs: 0 })).toBe(s * 1000);
      }),
    );
  });

  it('any other text is refused with the option and the units named, never read as a number or NaN (property)', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let result: number | undefined;
        try {
          result = durationMs(text, { option: 'timeout', defaultMs: 7 });
        } catch (err) {
          expect(err).toBeInstanceOf(DurationError);
          expect((err as Error).message).toContain('option timeout: expected a duration such as 30s, 5m, 1h30m or 250ms, or a bare number of seconds');
          return;
        }
        expect(Number.isFinite(result)).toBe(true);
        expect(result).toBeGreaterThanOrEqual(0);
        // accepted only when empty (the default), a bare number, or a Go duration
        expect(text.trim() === '' || /^[0-9]+(\.[0-9]+)?$/.test(text.trim()) || parseGoDurationMs(text.trim()) !== undefined).toBe(true);
      }),
    );
  });

  it('every driver takes a Go duration string and a bare number of seconds in config check', async () => {
    for (const [driver, { durations }] of Object.entries(DRIVERS)) {
      for (const option of durations) {
        for (const value of ['2s', '1m30s', '1500ms', 3]) {
          const result = await check(driver as keyof typeof DRIVERS, { [option]: value });
          expect(result.ok ? 'accepted' : result.message, `${driver}.${option}: ${JSON.stringify(value)}`).toBe('accepted');
        }
      }
    }
  });

  it('a value in no unit stowage knows is refused by config check, the error naming the units and the bare-number unit', async () => {
    for (const [driver, { durations }] of Object.entries(DRIVERS)) {
      for (const option of durations) {
        const result = await check(driver as keyof typeof DRIVERS, { [option]: '30 sec' });
        expect(result.ok, `${driver}.${option}`).toBe(false);
        const message = (result as { message: string }).message;
        expect(message).toContain(`storage.${driver}.${option}: must be a duration such as`);
        expect(message).toContain('bare number of seconds');
        expect(message).toContain('"30 sec"');
      }
    }
  });

  it('each driver turns the same written duration into the same milliseconds', () => {
    const written = { string: '1m30s', bare: 90 };
    for (const value of Object.values(written)) {
      expect(ufile({ ...DRIVERS.ufile.required, timeout: value, retryinterval: value }).timeoutMs).toBe(90_000);
      expect(ufile({ ...DRIVERS.ufile.required, retryinterval: value }).retryIntervalMs).toBe(90_000);
      expect(alioss({ ...DRIVERS.alioss.required, timeout: value }).timeoutMs).toBe(90_000);
      expect(elliptics({ nodes: 'h:1:2', waittimeout: value }, '/').waitTimeoutMs).toBe(90_000);
    }
    expect(ufile({ ...DRIVERS.ufile.required, redirectexpiry: '20m' }).redirectExpiry).toBe(1200);
    expect(swift({ ...DRIVERS.swift.required, timeout: '1m30s' }).timeoutMs).toBe(90_000);
    expect(swift({ ...DRIVERS.swift.required, timeout: 90 as never }).timeoutMs).toBe(90_000);
    expect(s3({ ...DRIVERS.s3.required, connecttimeout: '2500ms' }).connectTimeoutMs).toBe(2500);
    expect(s3({ ...DRIVERS.s3.required, retrydelay: 1 }).retryDelayMs).toBe(1000);
  });

  it('for swift and s3, whose bare numbers were milliseconds, a bare number too large for seconds is refused, not misread', async () => {
    for (const driver of ['swift', 's3'] as const) {
      const result = await check(driver, { timeout: 60000 });
      expect(result.ok).toBe(false);
      expect((result as { message: string }).message).toContain(`storage.${driver}.timeout: must be a duration such as 60s, 2m or 1500ms, or a bare number of seconds up to 99`);
    }
    expect(() => swift({ ...DRIVERS.swift.required, timeout: 60000 })).toThrow(/a bare number is seconds, and 60000 is more than 99 seconds: write the unit \(60000ms if milliseconds were meant/);
  });

  it('the run-time parser names the option and the units on a bad value', () => {
    expect(() => durationMs('soon', { option: 'timeout', defaultMs: 1 })).toThrow(
      'option timeout: expected a duration such as 30s, 5m, 1h30m or 250ms, or a bare number of seconds, got "soon"',
    );
    expect(durationMs(undefined, { option: 'timeout', defaultMs: 42 })).toBe(42);
    expect(durationMs('12', { option: 'timeout', defaultMs: 0 })).toBe(12_000);
    expect(() => durationMs('12', { option: 'timeout', defaultMs: 0, bareStrings: false })).toThrow(/got "12"/);
  });
});
