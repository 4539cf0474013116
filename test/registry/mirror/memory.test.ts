/**
 * A blob fetched through the mirror streams: `stowage serve` (its own process, so its resident memory can be
 * measured) mirrors distribution 2.8 and serves a 256 MiB blob only the upstream holds to three clients at
 * once, its memory growing by far less than the blob.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDistribution } from '../../support/distribution.js';
import { pullAndHash, pushGeneratedStream, residentSetSize, sampleResidentSetSize } from '../../support/memory.js';
import type { RunningRegistry } from '../../support/registry-under-test.js';
import { startStowageProcess, type StowageProcess } from '../../support/stowage.js';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
const ALLOWED_GROWTH = 64 * MiB;

describe('pull-through memory', () => {
  let upstream: RunningRegistry;
  let mirror: StowageProcess;
  let digest = '';
  let baseline = 0;
  const seed = `mirror-memory-${Date.now()}`;

  beforeAll(async () => {
    upstream = await startDistribution();
    digest = await pushGeneratedStream(upstream.url, 'big/blob', seed, SIZE);
    const warm = await pushGeneratedStream(upstream.url, 'big/blob', `${seed}-warm`, 4 * MiB);
    mirror = await startStowageProcess({
      topLevelLines: ['proxy:', '  upstreams:', '    - name: up', `      remoteurl: ${upstream.url}`, '      prefix: mirror/up'],
    });
    // every code path once, so lazily loaded modules and pools count in the baseline
    await pullAndHash(mirror.url, 'mirror/up/big/blob', warm);
    baseline = residentSetSize(mirror.pid);
  }, 300_000);
  afterAll(async () => {
    await mirror?.close();
    await upstream?.close();
  });

  it(`serves a ${SIZE / MiB} MiB blob fetched from the upstream to three clients at once, memory growing by less than ${ALLOWED_GROWTH / MiB} MiB`, async () => {
    const sampler = sampleResidentSetSize(mirror.pid);
    let pulled: { digest: string; size: number }[];
    try {
      pulled = await Promise.all([0, 1, 2].map(() => pullAndHash(mirror.url, 'mirror/up/big/blob', digest)));
    } finally {
      const peak = sampler.stop();
      expect(peak - baseline, `RSS went from ${(baseline / MiB).toFixed(1)} MiB to ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(ALLOWED_GROWTH);
    }
    for (const result of pulled) expect(result).toEqual({ digest, size: SIZE });
    // stored: served again from storage
    expect(await pullAndHash(mirror.url, 'mirror/up/big/blob', digest)).toEqual({ digest, size: SIZE });
  }, 300_000);
});
