/**
 * Byte quotas per namespace: counted from deduplicated blob sizes, enforced at upload close and at mount with
 * 403 DENIED naming the limit and the usage, reported by GET /v2/_stowage/quotas, and recounted by the
 * garbage collector (a deleted image's bytes come back once collected).
 */
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';
import { Registry } from '../../src/registry/index.js';
import { wrapDriver } from '../../src/storage/base.js';
import { createFilesystemDriver } from '../support/index.js';
import { sha256, StoreClient } from './store.js';

const KiB = 1024;

async function uploadStatus(url: string, repository: string, content: Buffer): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${sha256(content)}`, { method: 'POST', body: content, headers: { 'content-type': 'application/octet-stream' } });
  return { status: response.status, body: await response.text() };
}

async function quotas(url: string): Promise<{ namespace: string; limitBytes: number; usedBytes: number; blobs: number }[]> {
  const response = await fetch(`${url}/v2/_stowage/quotas`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { quotas: { namespace: string; limitBytes: number; usedBytes: number; blobs: number }[] }).quotas;
}

describe('byte quotas per namespace (storage.quotas)', () => {
  let workdir: string;
  let running: RunningStowage;

  beforeAll(async () => {
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-quota-'));
    const file = path.join(workdir, 'stowage.config.yaml');
    await writeFile(
      file,
      ['version: 0.1', 'log:', '  level: error', 'http:', '  addr: 127.0.0.1:0', '  debug:', '    addr: 127.0.0.1:0', '    prometheus: { enabled: true, path: /metrics }', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(path.join(workdir, 'store'))}`, '  delete:', '    enabled: true', '  quotas:', '    - namespace: team-a', '      limit: 10KiB', '    - namespace: team-a/big', '      limit: 1MB', ''].join('\n'),
    );
    running = await startStowage(await loadConfig({ configFile: file, cwd: workdir, env: {} }));
  });
  afterAll(async () => {
    await running?.close();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('counts each blob once per namespace, refuses the upload and the mount that would exceed it, and recounts after collection', async () => {
    const url = running.url;
    const six = Buffer.alloc(6 * KiB, 1);
    const five = Buffer.alloc(5 * KiB, 2);
    expect((await uploadStatus(url, 'team-a/one', six)).status).toBe(201);
    // the same bytes in another repository of the namespace cost nothing more
    expect((await uploadStatus(url, 'team-a/two', six)).status).toBe(201);
    expect(await quotas(url)).toEqual([
      { namespace: 'team-a', limitBytes: 10 * KiB, usedBytes: 6 * KiB, blobs: 1 },
      { namespace: 'team-a/big', limitBytes: 1_000_000, usedBytes: 0, blobs: 0 },
    ]);

    const refused = await uploadStatus(url, 'team-a/two', five);
    expect(refused.status).toBe(403);
    const error = (JSON.parse(refused.body) as { errors: { code: string; message: string }[] }).errors[0]!;
    expect(error.code).toBe('DENIED');
    expect(error.message).toContain('namespace team-a may hold 10240 bytes and holds 6144');
    expect((await fetch(`${url}/v2/team-a/two/blobs/${sha256(five)}`, { method: 'HEAD' })).status, 'nothing refused is visible').toBe(404);

    // a namespace of its own (the longest prefix wins), then a mount back into team-a over its limit
    expect((await uploadStatus(url, 'team-a/big/x', five)).status).toBe(201);
    const mount = await fetch(`${url}/v2/team-a/one/blobs/uploads/?mount=${sha256(five)}&from=team-a/big/x`, { method: 'POST' });
    expect(mount.status).toBe(403);
    expect(await mount.text()).toContain('DENIED');
    expect((await fetch(`${url}/v2/team-a/one/blobs/${sha256(five)}`, { method: 'HEAD' })).status).toBe(404);

    // an image pushed then deleted: its bytes count until the collector frees them
    const client = new StoreClient(url);
    const image = await client.image('team-a/one', 'v1', 'c', ['l']);
    const before = (await quotas(url))[0]!.usedBytes;
    expect(before, 'the blobs and the manifest').toBe(6 * KiB + 2 + image.size);
    const metrics = await (await fetch(`${running.debugURL!}/metrics`)).text();
    expect(metrics).toContain(`stowage_quota_used_bytes{namespace="team-a"} ${before}`);
    expect(metrics).toContain(`stowage_quota_limit_bytes{namespace="team-a"} ${10 * KiB}`);
    expect(metrics).toContain('stowage_quota_used_bytes{namespace="team-a/big"} 5120');
    expect(await client.deleteManifest('team-a/one', image.digest)).toBe(202);

    // another process on the same storage counts the same; its collector frees the image and the bare blobs
    // (no manifest names them) and its recount follows
    const other = new Registry({ driver: wrapDriver(await createFilesystemDriver(path.join(workdir, 'store'))), deleteEnabled: true, quotas: [{ namespace: 'team-a', limitBytes: 10 * KiB }, { namespace: 'team-a/big', limitBytes: 1_000_000 }] });
    expect((await other.quotaUsage())[0]!.usedBytes).toBe(before);
    const report = await other.collectGarbage({ dryRun: false, deleteUntagged: false });
    expect(new Set(report.blobsRemoved.map((blob) => blob.digest))).toEqual(new Set([sha256(six), sha256(five), image.digest, image.config, ...image.layers]));
    expect(await other.quotaUsage()).toEqual([
      { namespace: 'team-a', limitBytes: 10 * KiB, usedBytes: 0, blobs: 0 },
      { namespace: 'team-a/big', limitBytes: 1_000_000, usedBytes: 0, blobs: 0 },
    ]);
  });
});

describe('a byte quota under concurrent pushes', () => {
  it('never accepts more than the limit in total when many monolithic pushes race into a namespace, on a fresh process and on one that has counted it', async () => {
    const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-quota-race-'));
    const file = path.join(workdir, 'stowage.config.yaml');
    const limit = 100 * KiB;
    const size = 20 * KiB;
    await writeFile(file, ['version: 0.1', 'log:', '  level: error', 'http:', '  addr: 127.0.0.1:0', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(path.join(workdir, 'store'))}`, '  quotas:', '    - namespace: burst', `      limit: ${limit}`, ''].join('\n'));
    // what the namespace already holds, in many repositories, so that counting it takes a while
    const seeding = await startStowage(await loadConfig({ configFile: file, cwd: workdir, env: {} }));
    const seeds = Array.from({ length: 40 }, (_, i) => Buffer.from(`seed ${i}`));
    for (const [i, seed] of seeds.entries()) expect((await uploadStatus(seeding.url, `burst/seed-${i}`, seed)).status).toBe(201);
    await seeding.close();
    const seeded = seeds.reduce((total, seed) => total + seed.length, 0);
    const running = await startStowage(await loadConfig({ configFile: file, cwd: workdir, env: {} }));
    try {
      let accepted = seeded;
      for (const round of ['fresh', 'counted']) {
        const blobs = Array.from({ length: 12 }, (_, i) => Buffer.alloc(size, `${round}-${i}`));
        const statuses = await Promise.all(blobs.map((blob, i) => uploadStatus(running.url, `burst/${round}-${i}`, blob)));
        for (const { status, body } of statuses) expect([201, 403], body).toContain(status);
        accepted += statuses.filter(({ status }) => status === 201).length * size;
        expect(accepted, `${round}: the accepted pushes stay within the limit`).toBeLessThanOrEqual(limit);
        const [usage] = await quotas(running.url);
        expect(usage!.usedBytes, `${round}: what the namespace holds is what was accepted`).toBe(accepted);
      }
      expect(accepted, 'the pushes filled the quota').toBeGreaterThan(limit - size);
    } finally {
      await running.close();
      await rm(workdir, { recursive: true, force: true });
    }
  });
});
