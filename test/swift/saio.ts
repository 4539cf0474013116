/**
 * The Swift all-in-one every swift and s3 test shares: started on first use (the start script is
 * idempotent and serialised by a flock), kept alive while any test process holds a lease, stopped
 * when the last lease is given back. Leases are files named after the holding process, so a crashed
 * test process does not keep Swift alive forever.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const scripts = path.join(here, 'saio');

export const SAIO_DIR = process.env.STOWAGE_SAIO_DIR ?? '/tmp/stowage-swift';
const leases = path.join(SAIO_DIR, 'leases');

export interface SwiftEndpoint {
  readonly proxyPort: number;
  /** where tempauth keeps its tokens */
  readonly memcachedPort: number;
  /** tempauth v1 URL */
  readonly authUrl: string;
  readonly storageUrl: string;
  readonly s3Endpoint: string;
  /** tempauth user (account:user), also the S3 access key */
  readonly user: string;
  /** tempauth key, also the S3 secret */
  readonly key: string;
  readonly region: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function liveLeases(): string[] {
  if (!existsSync(leases)) return [];
  return readdirSync(leases).filter((name) => {
    const pid = Number(name.split('-')[0]);
    if (alive(pid)) return true;
    rmSync(path.join(leases, name), { force: true });
    return false;
  });
}

async function locked(command: string): Promise<void> {
  mkdirSync(SAIO_DIR, { recursive: true });
  // The lock lives on fd 8, which start.sh closes for the servers it starts: they must not inherit it.
  const lock = path.join(SAIO_DIR, '.lease.lock');
  await run('sh', ['-c', `exec 8>'${lock}' && flock 8 && { ${command}; }`], { timeout: 15 * 60_000, maxBuffer: 1 << 24 });
}

/** Starts Swift if needed (installing the Debian packages when missing) and takes a lease on it. */
export async function acquireSwift(): Promise<{ endpoint: SwiftEndpoint; release: () => Promise<void> }> {
  const lease = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  // Taking the lease and starting happen under one lock, so a concurrent release cannot stop Swift in between.
  await locked(`mkdir -p '${leases}' && touch '${path.join(leases, lease)}' && '${path.join(scripts, 'start.sh')}'`);
  const endpoint = JSON.parse(readFileSync(path.join(SAIO_DIR, 'env.json'), 'utf8')) as SwiftEndpoint;
  let released = false;
  return {
    endpoint,
    release: async () => {
      if (released) return;
      released = true;
      rmSync(path.join(leases, lease), { force: true });
      await stopIfUnused();
    },
  };
}

export async function stopIfUnused(): Promise<void> {
  if (liveLeases().length > 0) return;
  await locked(`[ -z "$(ls -A '${leases}' 2>/dev/null)" ] && '${path.join(scripts, 'stop.sh')}' || true`);
}

