/**
 * A real PostgreSQL (Debian's `postgresql` package) for the search tests: a cluster of its own made by initdb
 * in a temporary folder, a server on a free loopback port with password authentication, removed on close.
 * PostgreSQL refuses to run as root: when the tests do, the cluster belongs to the package's `postgres` user.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianTools } from './debian.js';
import { freeLoopbackPort } from './ports.js';
import { spawnServer, waitForOutput, type ServerProcess } from './server-process.js';

/** pg_ctlcluster comes with the package (postgresql-common); the server binaries sit in /usr/lib/postgresql/<major>/bin */
export const POSTGRESQL = { package: 'postgresql', binary: 'pg_ctlcluster' } as const;
const VERSIONS_DIR = '/usr/lib/postgresql';

export interface RunningPostgres {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** `postgresql://stowage:<password>@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly server: ServerProcess;
  /** stops the server and removes the cluster */
  close(): Promise<void>;
}

function serverBinaries(): string {
  ensureDebianTools(POSTGRESQL);
  const majors = existsSync(VERSIONS_DIR) ? readdirSync(VERSIONS_DIR).filter((v) => existsSync(path.join(VERSIONS_DIR, v, 'bin', 'postgres'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`the postgresql package is installed but no server binaries are in ${VERSIONS_DIR}/<major>/bin`);
  return path.join(VERSIONS_DIR, newest, 'bin');
}

/** as the `postgres` user when we are root (setpriv execs: the pid we hold is the server's) */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', '--', command, ...args]];
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = serverBinaries();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-pg-'));
  const data = path.join(dir, 'data');
  const password = `pw-${Math.random().toString(36).slice(2)}-secret`;
  const user = 'stowage';
  const root = process.getuid?.() === 0;
  try {
    await writeFile(path.join(dir, 'pwfile'), `${password}\n`);
    if (root) {
      const { uid, gid } = userIds('postgres');
      chownSync(dir, uid, gid);
      chownSync(path.join(dir, 'pwfile'), uid, gid);
    }
    chmodSync(dir, 0o700);
    const [initdb, initArgs] = asServerUser(path.join(bin, 'initdb'), ['-D', data, '-U', user, '--pwfile', path.join(dir, 'pwfile'), '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    execFileSync(initdb, initArgs, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // a free port may be taken again before the server binds it: try a few
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const [command, args] = asServerUser(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off', '-c', 'full_page_writes=off']);
    const server = spawnServer(command, args);
    try {
      await waitForOutput(server, /database system is ready to accept connections/, 60_000);
      return {
        port,
        user,
        password,
        url: `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
        server,
        async close() {
          await server.close(10_000);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      await server.close();
      if (attempt >= 3 || !/could not bind|Address already in use/.test(server.output())) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}
