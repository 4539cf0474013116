import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDriver as createFilesystemPluginDriver } from '../../plugins/filesystem/src/index.js';
import { createDriver as createInMemoryPluginDriver } from '../../plugins/inmemory/src/index.js';
import { startRegistry } from '../../src/embed.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';
import { freeLoopbackPort, waitForRegistry } from './ports.js';
import type { RunningRegistry } from './registry-under-test.js';
import { spawnServer, waitForOutput, type ServerProcess } from './server-process.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The filesystem plugin's driver, built with the driver context of `stowage/testing`. */
export async function createFilesystemDriver(rootdirectory: string): Promise<StorageDriver> {
  return createFilesystemPluginDriver({ rootdirectory }, createDriverContext('filesystem'));
}

export async function createInMemoryDriver(): Promise<StorageDriver> {
  return createInMemoryPluginDriver({}, createDriverContext('inmemory'));
}

export interface InProcessOptions {
  readonly deleteEnabled?: boolean;
  /** a fixed loopback port (0, the default: any free one) */
  readonly port?: number;
  /** answer blob GETs with the driver's redirect URLs when it has them (default true) */
  readonly redirect?: boolean;
}

/**
 * stowage in this process, on a given driver (the form driver authors use for their e2e runs). The driver
 * is wrapped as the plugin loader wraps it in production (path checks, error stamping, walk fallback).
 * The caller owns the driver: `close()` stops the server and leaves the driver open.
 */
export async function startStowageWithDriver(driver: StorageDriver, options: boolean | InProcessOptions = {}): Promise<RunningRegistry> {
  const { deleteEnabled = true, port = 0, redirect = true } = typeof options === 'boolean' ? { deleteEnabled: options } : options;
  const registry = await startRegistry({ driver, deleteEnabled, redirect, addr: `127.0.0.1:${port}` });
  const url = registry.url.replace(/\/+$/, '');
  return {
    url,
    host: new URL(url).host,
    async close() {
      await registry.close();
    },
  };
}

/**
 * stowage in this process on a driver it owns: `close()` stops the server, closes the driver, then closes
 * each of `alsoClose` in order (the emulator the driver talks to, say).
 */
export async function startStowageOwningDriver(
  driver: StorageDriver,
  options: InProcessOptions & { readonly alsoClose?: readonly ({ close(): unknown } | undefined)[] } = {},
): Promise<RunningRegistry> {
  const registry = await startStowageWithDriver(driver, options);
  return {
    ...registry,
    async close() {
      await registry.close();
      await driver.close?.();
      for (const other of options.alsoClose ?? []) await other?.close();
    },
  };
}

/** stowage in this process on the filesystem driver over a folder (a fresh temporary one when omitted). */
export async function startStowageInProcess(options: { rootdirectory?: string; deleteEnabled?: boolean } = {}): Promise<RunningRegistry> {
  const temporary = options.rootdirectory ? undefined : await mkdtemp(path.join(os.tmpdir(), 'stowage-fs-'));
  const rootdirectory = options.rootdirectory ?? (temporary as string);
  const registry = await startStowageOwningDriver(await createFilesystemDriver(rootdirectory), { deleteEnabled: options.deleteEnabled ?? true });
  return {
    ...registry,
    rootdirectory,
    async close() {
      await registry.close();
      if (temporary) await rm(temporary, { recursive: true, force: true });
    },
  };
}

export interface StowageProcessOptions {
  readonly rootdirectory?: string;
  /** a fixed port (to restart on the same address); a free one when omitted */
  readonly port?: number;
  readonly deleteEnabled?: boolean;
  readonly logLevel?: string;
  /** storage.maintenance.uploadpurging with this age and interval; the defaults when omitted */
  readonly uploadPurging?: { readonly age: string; readonly interval: string };
  /** more lines of the `http` section, indented as its keys (`  debug:`) */
  readonly httpLines?: readonly string[];
  /** more lines of the `storage` section, indented as its keys (`  cache:`) */
  readonly storageLines?: readonly string[];
  /** more top-level lines of the config (`redis:`) */
  readonly topLevelLines?: readonly string[];
  /** node options before the script (`--trace-gc-nvp`) */
  readonly nodeArgs?: readonly string[];
}

export interface StowageProcess extends RunningRegistry {
  readonly pid: number;
  readonly rootdirectory: string;
  readonly port: number;
  readonly server: ServerProcess;
}

const CLI = path.join(PROJECT_ROOT, 'bin', 'stowage.js');

/** stowage as its own process: `node bin/stowage.js serve --config FILE` (needs `npm run build` first). */
export async function startStowageProcess(options: StowageProcessOptions = {}): Promise<StowageProcess> {
  if (!existsSync(CLI) || !existsSync(path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('bin/stowage.js needs the build: run `npm run build` (tsc -b tsconfig.build.json) first');
  }
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-process-'));
  const rootdirectory = options.rootdirectory ?? path.join(workdir, 'storage');
  await mkdir(rootdirectory, { recursive: true });
  const port = options.port ?? (await freeLoopbackPort());
  const configFile = path.join(workdir, 'stowage.config.yaml');
  await writeFile(
    configFile,
    [
      'version: 0.1',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(options.httpLines ?? []),
      'log:',
      `  level: ${options.logLevel ?? 'warn'}`,
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(rootdirectory)}`,
      '  delete:',
      `    enabled: ${options.deleteEnabled ?? true}`,
      ...(options.uploadPurging
        ? ['  maintenance:', '    uploadpurging:', '      enabled: true', `      age: ${options.uploadPurging.age}`, `      interval: ${options.uploadPurging.interval}`]
        : []),
      ...(options.storageLines ?? []),
      ...(options.topLevelLines ?? []),
      '',
    ].join('\n'),
  );
  const server = spawnServer(process.execPath, [...(options.nodeArgs ?? []), CLI, 'serve', '--config', configFile], { PATH: process.env.PATH, HOME: workdir, NODE_ENV: 'production' }, PROJECT_ROOT);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOutput(server, new RegExp(`127\\.0\\.0\\.1:${port}`), 30_000);
    await waitForRegistry(url, 30_000, () => server.isRunning());
  } catch (error) {
    await server.close();
    await rm(workdir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    rootdirectory,
    port,
    pid: server.pid,
    server,
    async close() {
      await server.close();
      await rm(workdir, { recursive: true, force: true });
    },
  };
}
