/**
 * stowage as a pull-through mirror, the way `stowage serve` builds it (loadConfig + startStowage in this
 * process), over a filesystem folder of its own, with the `proxy` section the test gives.
 */
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startStowage, type RunningStowage } from '../../src/cli/serve.js';
import { loadConfig } from '../../src/config/index.js';

export interface RunningMirror {
  readonly url: string;
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** the filesystem driver's folder */
  readonly rootdirectory: string;
  readonly running: RunningStowage;
  close(): Promise<void>;
}

/** `proxy` is the config's proxy section as an object; `extra` adds other top-level sections (auth, ...). */
export async function startMirror(proxy: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<RunningMirror> {
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-mirror-'));
  const rootdirectory = path.join(workdir, 'storage');
  const file = path.join(workdir, 'stowage.config.yaml');
  const document = {
    version: 0.1,
    log: { level: process.env.STOWAGE_TEST_MIRROR_LOG ?? 'fatal' },
    http: { addr: '127.0.0.1:0' },
    storage: { filesystem: { rootdirectory }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
    proxy,
    ...extra,
  };
  await writeFile(file, stringify(document));
  let running: RunningStowage;
  try {
    running = await startStowage(await loadConfig({ configFile: file, cwd: workdir, env: {} }));
  } catch (err) {
    await rm(workdir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: running.url.replace(/\/+$/, ''),
    host: new URL(running.url).host,
    rootdirectory,
    running,
    async close() {
      await running.close();
      await rm(workdir, { recursive: true, force: true });
    },
  };
}
