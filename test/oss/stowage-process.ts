/** stowage as its own process (bin/stowage.js serve, needs the build) on a driver configured by YAML lines. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort, waitForRegistry } from '../support/ports.js';
import type { OssEmulator } from './emulator.js';
import type { RunningRegistry } from '../support/registry-under-test.js';
import { type ServerProcess, spawnServer, waitForOutput } from '../support/server-process.js';
import { PROJECT_ROOT } from '../support/stowage.js';

/** The alioss driver's lines under `storage:` for `bucket` of `emulator` (plain HTTP, the emulator's keys and region). */
export function ossDriverLines(emulator: OssEmulator, bucket: string): string[] {
  return [
    '  oss:',
    `    accesskeyid: ${emulator.accessKeyId}`,
    `    accesskeysecret: ${emulator.accessKeySecret}`,
    `    bucket: ${bucket}`,
    `    region: oss-${emulator.region}`,
    `    endpoint: localhost:${emulator.port}`,
    '    secure: false',
  ];
}

/** Lines of the config file besides the driver's: under `http:` (e.g. `debug:`), and at the top level (e.g. `redis:`). */
export interface MoreConfigLines {
  readonly httpLines?: readonly string[];
  readonly topLevelLines?: readonly string[];
}

/** `driverLines` go under `storage:`, e.g. `['  oss:', '    bucket: x']`. Redirects are off: the helpers' pulls do not follow them. */
export async function startStowageProcessOn(driverLines: readonly string[], more: MoreConfigLines = {}): Promise<RunningRegistry & { pid: number; server: ServerProcess }> {
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-objstore-'));
  const port = await freeLoopbackPort();
  const configFile = path.join(workdir, 'stowage.config.yaml');
  await writeFile(configFile, [
    'version: 0.1',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(more.httpLines ?? []),
    'log:',
    '  level: warn',
    'storage:',
    ...driverLines,
    '  delete:',
    '    enabled: true',
    '  redirect:',
    '    disable: true',
    ...(more.topLevelLines ?? []),
    '',
  ].join('\n'));
  const server = spawnServer(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'stowage.js'), 'serve', '--config', configFile], { PATH: process.env.PATH, HOME: workdir, NODE_ENV: 'production' }, PROJECT_ROOT);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOutput(server, new RegExp(`127\\.0\\.0\\.1:${port}`), 30_000);
    await waitForRegistry(url, 30_000, () => server.isRunning());
  } catch (error) {
    const output = server.output();
    await server.close();
    await rm(workdir, { recursive: true, force: true });
    throw new Error(`stowage did not start: ${(error as Error).message}\n${output}`);
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    pid: server.pid,
    server,
    async close() {
      await server.close();
      await rm(workdir, { recursive: true, force: true });
    },
  };
}
