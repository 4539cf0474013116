import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/index.js';
import type { StowageConfig } from '../../src/config/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));
export const LOCAL_PLUGINS = path.join(FIXTURES, 'local');
export const BROKEN_PLUGINS = path.join(FIXTURES, 'broken');

/** A temporary folder, removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `stowage-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `text` as a config file in `dir` and loads it the way `stowage` does. */
export async function configFrom(dir: string, text: string, fileName = 'stowage.config.yaml', env: NodeJS.ProcessEnv = {}): Promise<StowageConfig> {
  const file = path.join(dir, fileName);
  await writeFile(file, text);
  return loadConfig({ configFile: file, cwd: dir, env });
}
