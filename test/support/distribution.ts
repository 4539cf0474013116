import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DISTRIBUTION, ensureDebianTools } from './debian.js';
import { freeLoopbackPort, waitForRegistry } from './ports.js';
import type { RunningRegistry } from './registry-under-test.js';
import { spawnServer } from './server-process.js';
import { promisify } from 'node:util';

const runFile = promisify(execFile);

export interface DistributionOptions {
  /** storage folder; a fresh temporary one (removed on close) when omitted */
  readonly rootdirectory?: string;
  readonly deleteEnabled?: boolean;
  /** a fixed port (to restart on the same address); a free one when omitted */
  readonly port?: number;
  /** http.secret, which signs upload state: keep it across restarts to resume uploads */
  readonly secret?: string;
  /** an htpasswd file (bcrypt lines): the registry then asks every request for Basic credentials */
  readonly htpasswd?: string;
  /** runs as a pull-through cache of `remoteurl` (distribution's `proxy` section) */
  readonly proxy?: { readonly remoteurl: string; readonly username?: string; readonly password?: string };
}

/** The distribution config.yml for a loopback instance on the filesystem driver. */
export function distributionConfig(rootdirectory: string, port: number, deleteEnabled: boolean, secret?: string, htpasswd?: string, proxy?: DistributionOptions['proxy']): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(rootdirectory)}`,
    '  delete:',
    `    enabled: ${deleteEnabled}`,
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    ...(secret ? [`  secret: ${JSON.stringify(secret)}`] : []),
    ...(htpasswd ? ['auth:', '  htpasswd:', '    realm: distribution-test', `    path: ${JSON.stringify(htpasswd)}`] : []),
    ...(proxy
      ? [
          'proxy:',
          `  remoteurl: ${JSON.stringify(proxy.remoteurl)}`,
          ...(proxy.username !== undefined ? [`  username: ${JSON.stringify(proxy.username)}`] : []),
          ...(proxy.password !== undefined ? [`  password: ${JSON.stringify(proxy.password)}`] : []),
        ]
      : []),
    '',
  ].join('\n');
}

/** Starts CNCF distribution 2.8 (Debian's `docker-registry`) on a free loopback port. */
export async function startDistribution(options: DistributionOptions = {}): Promise<RunningRegistry> {
  ensureDebianTools(DISTRIBUTION);
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-distribution-'));
  const rootdirectory = options.rootdirectory ?? path.join(workdir, 'storage');
  await mkdir(rootdirectory, { recursive: true });
  const port = options.port ?? (await freeLoopbackPort());
  const configFile = path.join(workdir, 'config.yml');
  await writeFile(configFile, distributionConfig(rootdirectory, port, options.deleteEnabled ?? true, options.secret, options.htpasswd, options.proxy));
  const server = spawnServer('docker-registry', ['serve', configFile], { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workdir });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForRegistry(url, 30_000, () => server.isRunning());
  } catch (error) {
    await server.close();
    throw new Error(`${(error as Error).message}\n${server.output()}`);
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    rootdirectory,
    pid: server.pid,
    async close() {
      await server.close();
      await rm(workdir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs distribution 2.8's offline mark-and-sweep (`docker-registry garbage-collect`) over a storage folder:
 * it deletes every blob no manifest of the folder references, so it shows whether distribution reads a
 * folder's manifests and links the way their writer meant.
 */
export async function garbageCollectWithDistribution(rootdirectory: string, flags: readonly ('--dry-run' | '--delete-untagged')[] = []): Promise<string> {
  ensureDebianTools(DISTRIBUTION);
  const workdir = await mkdtemp(path.join(os.tmpdir(), 'stowage-distribution-gc-'));
  try {
    const configFile = path.join(workdir, 'config.yml');
    await writeFile(configFile, distributionConfig(rootdirectory, 5000, true));
    const { stdout, stderr } = await runFile('docker-registry', ['garbage-collect', ...flags, configFile], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workdir },
      timeout: 120_000,
    });
    return stdout + stderr;
  } finally {
    await rm(workdir, { recursive: true, force: true });
  }
}
