/**
 * The sync pass's own rules, over a port that records what it was asked (the pass against a real upstream
 * through the real fetcher is test/e2e/mirror-sync.test.ts): bounded concurrency, one walk per image shared
 * by tags, a failing tag not stopping the others.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/registry/logger.js';
import { runSync, type SyncPort } from '../../../src/registry/mirror/sync.js';

const digestOf = (text: string): string => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const image = (seed: string, layers: number) => {
  const blobs = Array.from({ length: layers + 1 }, (_, i) => digestOf(`${seed}/${i}`));
  const content = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blobs[0], size: 1 },
    layers: blobs.slice(1).map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 1 })),
  });
  return { digest: digestOf(content), content: Buffer.from(content), blobs };
};

function recordingPort(tags: Record<string, Record<string, ReturnType<typeof image>>>, failing = new Set<string>()) {
  let inFlight = 0;
  const seen = { maxInFlight: 0, blobRequests: [] as string[], manifestRequests: [] as string[] };
  const held = new Set<string>();
  const byDigest = new Map(Object.values(tags).flatMap((repo) => Object.values(repo).map((m) => [m.digest, m] as const)));
  const port: SyncPort = {
    repositories: async () => Object.keys(tags),
    tags: async (repository) => Object.keys(tags[repository] ?? {}),
    manifest: async (repository, reference) => {
      seen.manifestRequests.push(`${repository}:${reference}`);
      if (failing.has(reference)) throw new Error(`upstream refused ${reference}`);
      const found = tags[repository]?.[reference] ?? byDigest.get(reference);
      if (!found) throw new Error(`no ${reference}`);
      return found;
    },
    blob: async (_repository, digest) => {
      seen.blobRequests.push(digest);
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      if (held.has(digest)) return false;
      held.add(digest);
      return true;
    },
  };
  return { port, seen };
}

describe('a sync pass', () => {
  it('fetches at most `concurrency` blobs at once', async () => {
    const { port, seen } = recordingPort({ app: { v1: image('a', 12), v2: image('b', 9) } });
    const report = await runSync({ repositories: ['app'], interval: '1h' }, { upstream: 'u', port, logger: silentLogger, concurrency: 3 });
    expect(report).toMatchObject({ tags: 2, manifests: 2, blobsFetched: 23, blobsHeld: 0, failures: [] });
    expect(seen.maxInFlight).toBe(3);
  });

  it('walks an image shared by several tags once per run', async () => {
    const shared = image('shared', 4);
    const { port, seen } = recordingPort({ app: { v1: shared, latest: shared, stable: shared } });
    const report = await runSync({ repositories: ['app'], interval: '1h' }, { upstream: 'u', port, logger: silentLogger });
    expect(report).toMatchObject({ tags: 3, manifests: 1, blobsFetched: 5 });
    expect(seen.blobRequests).toHaveLength(5);
  });

  it('goes on past a tag that fails, and names it in the report', async () => {
    const { port } = recordingPort({ app: { v1: image('a', 1), v2: image('b', 1), v3: image('c', 1) } }, new Set(['v2']));
    const report = await runSync({ repositories: ['app'], interval: '1h' }, { upstream: 'u', port, logger: silentLogger });
    expect(report.tags).toBe(2);
    expect(report.failures).toEqual([{ repository: 'app', tag: 'v2', message: 'upstream refused v2' }]);
  });

  it('stops between tags once its signal aborts', async () => {
    const controller = new AbortController();
    const { port, seen } = recordingPort({ app: { a: image('a', 1), b: image('b', 1), c: image('c', 1) } });
    const aborting: SyncPort = {
      ...port,
      manifest: async (repository, reference, signal) => {
        const found = await port.manifest(repository, reference, signal);
        controller.abort();
        return found;
      },
    };
    const report = await runSync({ repositories: ['app'], interval: '1h' }, { upstream: 'u', port: aborting, logger: silentLogger, signal: controller.signal });
    expect(seen.manifestRequests).toEqual(['app:a']);
    expect(report.tags).toBe(1);
  });
});
