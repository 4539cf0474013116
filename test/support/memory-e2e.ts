import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicDigest } from './deterministic-bytes.js';
import { pullAndHash, pushGeneratedStream, putGeneratedStream, residentSetSize, sampleResidentSetSize } from './memory.js';
import type { RunningRegistry } from './registry-under-test.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Streams 1 GiB through a registry running as its own process, and holds its resident memory to a
 * bound: a registry that buffers a blob anywhere grows by the blob's size.
 */
export function describeStreamingMemory(name: string, start: () => Promise<RunningRegistry & { pid: number }>, size = GiB, allowedGrowth = 64 * MiB): void {
  describe(`streaming memory: ${name}`, () => {
    let registry: RunningRegistry & { pid: number };
    let baseline = 0;
    let digest = '';
    const seed = `memory-${Date.now()}`;

    beforeAll(async () => {
      registry = await start();
      // warm up every code path once so lazily loaded modules and pools count in the baseline
      const warm = await pushGeneratedStream(registry.url, 'memory/warmup', `${seed}-warmup`, 4 * MiB);
      await pullAndHash(registry.url, 'memory/warmup', warm);
      baseline = residentSetSize(registry.pid);
    });
    afterAll(async () => {
      await registry?.close();
    });

    it(`accepts a ${size / MiB} MiB upload streamed in one PATCH with its memory growing by less than ${allowedGrowth / MiB} MiB`, async () => {
      const sampler = sampleResidentSetSize(registry.pid);
      try {
        digest = await pushGeneratedStream(registry.url, 'memory/big', seed, size);
      } finally {
        const peak = sampler.stop();
        expect(peak - baseline, `RSS went from ${(baseline / MiB).toFixed(1)} MiB to ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(allowedGrowth);
      }
      expect(digest).toBe(await deterministicDigest(seed, size));
    }, 600_000);

    it(`accepts a ${size / MiB} MiB monolithic upload (one PUT with the body) with its memory growing by less than ${allowedGrowth / MiB} MiB`, async () => {
      const monolithicSeed = `${seed}-monolithic`;
      const expected = await deterministicDigest(monolithicSeed, size);
      const sampler = sampleResidentSetSize(registry.pid);
      try {
        await putGeneratedStream(registry.url, 'memory/monolithic', monolithicSeed, size, expected);
      } finally {
        const peak = sampler.stop();
        expect(peak - baseline, `RSS went from ${(baseline / MiB).toFixed(1)} MiB to ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(allowedGrowth);
      }
      expect(await pullAndHash(registry.url, 'memory/monolithic', expected)).toEqual({ digest: expected, size });
    }, 600_000);

    it(`serves the ${size / MiB} MiB blob back byte for byte with its memory growing by less than ${allowedGrowth / MiB} MiB`, async () => {
      expect(digest).not.toBe('');
      const sampler = sampleResidentSetSize(registry.pid);
      let pulled: { digest: string; size: number };
      try {
        pulled = await pullAndHash(registry.url, 'memory/big', digest);
      } finally {
        const peak = sampler.stop();
        expect(peak - baseline, `RSS went from ${(baseline / MiB).toFixed(1)} MiB to ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(allowedGrowth);
      }
      expect(pulled.size).toBe(size);
      expect(pulled.digest).toBe(digest);
    }, 600_000);
  });
}
