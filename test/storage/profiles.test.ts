import { afterEach, describe, expect, it, vi } from 'vitest';
import { profiles, resolveProfile } from '../../src/testing/profiles.js';

describe('conformance kit profiles', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('runs quick unless asked otherwise, and takes "ci" as quick', () => {
    vi.stubEnv('STOWAGE_KIT_PROFILE', '');
    expect(resolveProfile(undefined)).toBe('quick');
    expect(resolveProfile('ci')).toBe('quick');
    expect(resolveProfile('full')).toBe('full');
  });

  it('lets STOWAGE_KIT_PROFILE=full override the profile a test file names', () => {
    vi.stubEnv('STOWAGE_KIT_PROFILE', 'full');
    expect(resolveProfile('quick')).toBe('full');
  });

  it('refuses an unknown profile by name', () => {
    vi.stubEnv('STOWAGE_KIT_PROFILE', 'fast');
    expect(() => resolveProfile(undefined)).toThrow('unknown profile "fast" (expected "quick" or "full")');
  });

  it("uses distribution's sizes in the full profile", () => {
    expect(profiles.full).toMatchObject({ largeStreamBytes: 5 * 1024 ** 3, appendChunkBytes: 10 * 1024 ** 2, concurrentStreams: 32, statSleepMs: 10_000 });
    expect(profiles.quick.concurrentStreams).toBe(8);
  });
});
