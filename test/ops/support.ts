/** stowage from a config file in a temporary folder, in this process (startStowage, as `stowage serve` runs it). */
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';

export interface ConfiguredStowage extends RunningStowage {
  readonly dir: string;
}

export async function tempFolder(label: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `stowage-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `yaml` as config.yml in `dir` and starts stowage on it. */
export async function startConfigured(dir: string, yaml: string): Promise<ConfiguredStowage> {
  await writeFile(path.join(dir, 'config.yml'), yaml);
  const config = await loadConfig({ cwd: dir, configFile: 'config.yml', env: {} });
  return { ...(await startStowage(config)), dir };
}

/** Polls `check` until it holds (a condition to wait for, not a delay): each try is one request to the server. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
