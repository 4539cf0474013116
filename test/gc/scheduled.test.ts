/** storage.maintenance.gc: a served registry collects on its own, on the schedule the config sets. */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';
import { configErrorOf, expectIssue } from '../config/helpers.js';
import { allBlobsOf, blobFile, StoreClient } from './store.js';

const config = (root: string, gc: string[]): string =>
  ['version: 0.1', 'log:', '  level: error', 'http:', '  addr: 127.0.0.1:0', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`, '  delete:', '    enabled: true', '  maintenance:', '    gc:', ...gc.map((line) => `      ${line}`), ''].join('\n');

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('scheduled online garbage collection (storage.maintenance.gc)', () => {
  let workdir: string;
  let running: RunningStowage | undefined;

  beforeAll(async () => {
    workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-gc-scheduled-'));
  });
  afterAll(async () => {
    await running?.close();
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  it('removes a deleted image\'s blobs while serving, and keeps the tagged one', async () => {
    const root = path.join(workdir, 'store');
    const file = path.join(workdir, 'stowage.config.yaml');
    await writeFile(file, config(root, ['enabled: true', 'interval: 200ms', 'graceperiod: 3s', 'settle: 10ms']));
    running = await startStowage(await loadConfig({ configFile: file, cwd: workdir, env: {} }));
    const client = new StoreClient(running.url);
    const kept = await client.image('sched/app', 'v1', 'kept config', ['kept layer']);
    const gone = await client.image('sched/app', 'v2', 'gone config', ['gone layer']);
    expect(await client.deleteManifest('sched/app', gone.digest)).toBe(202);

    // collected once the grace period (which covers a push between its layers and its manifest) has passed
    await until(() => allBlobsOf(gone).every((digest) => !existsSync(path.join(root, blobFile(digest)))), 'the deleted image is collected');
    for (const digest of allBlobsOf(kept)) expect(await client.blobIntact('sched/app', digest), digest).toBe(true);
    expect(await client.manifestStatus('sched/app', 'v1')).toBe(200);
  });

  it('refuses a malformed setting, naming where it is', async () => {
    const file = path.join(workdir, 'bad.config.yaml');
    await writeFile(file, config(path.join(workdir, 'unused'), ['enabled: true', 'graceperiod: a while']));
    const error = await configErrorOf(loadConfig({ configFile: file, cwd: workdir, env: {} }));
    expectIssue(error, file, 'storage.maintenance.gc.graceperiod', 'expected a duration such as 24h');
  });
});
