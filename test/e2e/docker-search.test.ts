/**
 * `docker search <host>/<term>` against stowage: the docker CLI asks a dockerd of the test's own (on vfs,
 * with its own containerd, as in auth-clients.test.ts), which pings `/v1/_ping` and calls `/v1/search` on
 * stowage over plain HTTP (127.0.0.0/8 is an insecure registry for dockerd by default). With htpasswd and
 * access rules, a `docker login`ed user sees only the repositories they may pull. The first registry keeps its
 * search index in an SQLite file (search.backend: sqlite).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoTeamRegistry, USERS, type AuthRegistry } from '../auth/support.js';
import { pushImage, startTestRegistry, type TestRegistry } from '../http/support/registry.js';
import { ensureDebianTools } from '../support/debian.js';
import { CONTAINERD, DOCKERD, startDockerDaemons, type DockerDaemons } from '../support/docker-daemons.js';


interface Run {
  readonly status: number | null;
  readonly out: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', (err) => (out += String(err)));
    child.on('close', (status) => resolve({ status, out }));
    child.stdin.end(input);
  });
}

/** the NAME column of `docker search --format` output */
async function searchNames(host: string, term: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const result = await run(['search', '--format', '{{.Name}}\t{{.Description}}', `${host}/${term}`], env);
  if (result.status !== 0) throw new Error(`docker search exited ${result.status}: ${result.out}`);
  return result.out.split('\n').filter((line) => line.trim() !== '');
}

let work: string;
let daemons: DockerDaemons | undefined;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ensureDebianTools(CONTAINERD, DOCKERD);
  work = await mkdtemp(path.join(os.tmpdir(), 'stowage-docker-search-'));
  daemons = await startDockerDaemons(work);
  env = { DOCKER_HOST: daemons.dockerHost, DOCKER_CONFIG: path.join(work, 'docker-config') };
}, 10 * 60_000);

afterAll(async () => {
  await daemons?.close();
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('docker search', { timeout: 180_000 }, () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    // the default persistent index (an SQLite file), as `stowage serve` on the filesystem driver keeps it
    registry = await startTestRegistry({ search: { backend: 'sqlite', path: path.join(work, 'search.sqlite'), pathFrom: 'search.path' } });
    await pushImage(registry, 'web/frontend', 'v1');
    await pushImage(registry, 'tools/builder', 'frontend-base');
    await pushImage(registry, 'db/postgres', '16');
  });
  afterAll(async () => registry?.close());

  it('lists the repositories whose name or tags hold the term, and sees a push made after the first search', async () => {
    const host = new URL(registry.url).host;
    expect(await searchNames(host, 'frontend', env)).toEqual(['tools/builder\ttags: frontend-base', 'web/frontend\ttags: v1']);
    expect(await searchNames(host, 'nothing-like-this', env)).toEqual([]);
    await pushImage(registry, 'web/frontend-next', 'beta');
    expect(await searchNames(host, 'frontend-n', env)).toEqual(['web/frontend-next\ttags: beta']);
  });
});

describe('docker search with htpasswd and access rules', { timeout: 180_000 }, () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startTwoTeamRegistry('docker-search');
  });
  afterAll(async () => registry?.close());

  it('a logged-in user finds only what they may pull', async () => {
    const host = new URL(registry.url).host;
    const login = await run(['login', '-u', 'alice', '--password-stdin', host], env, `${USERS.alice}\n`);
    expect(login.status, login.out).toBe(0);
    expect((await searchNames(host, 'app', env)).map((line) => line.split('\t')[0])).toEqual(['team-a/app']);
  });
});
