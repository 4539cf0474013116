import { execFileSync, spawnSync } from 'node:child_process';

/** A Debian package a test needs, and a binary whose presence shows it is installed. */
export interface DebianTool {
  readonly package: string;
  readonly binary: string;
}

export const SKOPEO: DebianTool = { package: 'skopeo', binary: 'skopeo' };
/** CNCF distribution 2.8 as Debian packages it. */
export const DISTRIBUTION: DebianTool = { package: 'docker-registry', binary: 'docker-registry' };

function onPath(binary: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' }).status === 0;
}

function apt(args: string[]): void {
  // as another user than root, through password-less sudo (-n: fail at once rather than ask for a password)
  const [command, ...prefix] = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  execFileSync(command!, [...prefix, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 15 * 60_000,
  });
}

/**
 * Installs the packages whose binaries are missing, so the suite works on a fresh Debian machine.
 * Runs `apt-get update` first only when apt does not know a package yet.
 */
export function ensureDebianTools(...tools: DebianTool[]): void {
  const missing = tools.filter((tool) => !onPath(tool.binary));
  if (missing.length === 0) return;
  const names = missing.map((tool) => tool.package);
  const known = spawnSync('apt-cache', ['show', ...names], { stdio: 'ignore' }).status === 0;
  if (!known) apt(['update']);
  apt(['install', '-y', '--no-install-recommends', ...names]);
  const stillMissing = missing.filter((tool) => !onPath(tool.binary));
  if (stillMissing.length > 0) {
    throw new Error(`apt-get installed ${names.join(', ')} but ${stillMissing.map((t) => t.binary).join(', ')} is still not on PATH`);
  }
}
