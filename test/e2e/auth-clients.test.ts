/**
 * Real clients against stowage over TLS with a CA of the test's own, in both authentication modes:
 * htpasswd (Basic) and the built-in token server (Bearer). skopeo, podman, ctr (with a containerd of the
 * test's own) and docker (with a dockerd of the test's own on vfs) each log in, push and pull; a wrong
 * password and an action the rules do not grant are refused.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../src/config/types.js';
import { startAuthRegistry, USERS, type AuthRegistry } from '../auth/support.js';
import { ensureDebianTools, SKOPEO, type DebianTool } from '../support/debian.js';
import { buildImageLayout } from '../support/oci-layout.js';
import { CONTAINERD, DOCKERD, startDockerDaemons, type DockerDaemons } from '../support/docker-daemons.js';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/tls-ca.js';

const PODMAN: DebianTool = { package: 'podman', binary: 'podman' };

const RULES: AuthConfig['access'] = {
  groups: {},
  anonymouspull: [],
  rules: [
    { repositories: ['**'], users: ['alice'], groups: [], actions: ['pull', 'push', 'delete'] },
    { repositories: ['**'], users: ['bob'], groups: [], actions: ['pull'] },
  ],
};

const MODES: Record<'htpasswd' | 'token', (dir: string) => AuthConfig> = {
  htpasswd: (dir) => ({ htpasswd: { realm: 'stowage', path: `${dir}/htpasswd` }, access: RULES }),
  token: (dir) => ({
    htpasswd: { realm: 'stowage', path: `${dir}/htpasswd` },
    token: { realm: '/auth/token', service: 'stowage-e2e', issuer: 'stowage-e2e' },
    tokenserver: { expiration: '5m' },
    access: RULES,
  }),
};

interface Run {
  readonly status: number | null;
  readonly out: string;
}

/** A client command, run asynchronously: the registry under test answers from this same process. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: 180_000 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', (err) => (out += String(err)));
    child.on('close', (status) => resolve({ status, out }));
    child.stdin.end(input ?? '');
  });
}

async function ok(running: Promise<Run>): Promise<void> {
  const result = await running;
  if (result.status !== 0) throw new Error(`exit ${result.status}: ${result.out}`);
}

let work: string;
let ca: TestCa;
let server: IssuedCertificate;
let layout: string;
let daemons: DockerDaemons | undefined;
const certsDirs: string[] = [];

beforeAll(async () => {
  ensureDebianTools(SKOPEO, PODMAN, CONTAINERD, DOCKERD);
  work = await mkdtemp(path.join(os.tmpdir(), 'stowage-clients-'));
  ca = createTestCa(work);
  server = ca.issue('server', { cn: '127.0.0.1', names: ['127.0.0.1', 'localhost'] });
  layout = path.join(work, 'layout');
  await buildImageLayout(layout, 'v1', 'auth-clients', [4096, 16 * 1024]);

  // a containerd of our own (ctr needs one; dockerd uses it too), on sockets and folders under `work`
  daemons = await startDockerDaemons(work);
}, 15 * 60_000);

afterAll(async () => {
  await daemons?.close();
  for (const dir of certsDirs) await rm(dir, { recursive: true, force: true });
  if (work) await rm(work, { recursive: true, force: true });
}, 60_000);

for (const [mode, auth] of Object.entries(MODES)) {
  describe(`real clients over TLS with ${mode} authentication`, { timeout: 300_000 }, () => {
    let registry: AuthRegistry;
    let host: string;
    let certDir: string;
    let hostsDir: string;
    const creds = (user: string, password = USERS[user]!): string => `${user}:${password}`;

    beforeAll(async () => {
      registry = await startAuthRegistry(auth, { tls: () => ({ certificate: server.cert, key: server.key, clientcas: [], minimumtls: 'tls1.2' }) });
      host = new URL(registry.url).host;
      // containers' cert dir (skopeo, podman), docker's /etc/docker/certs.d (it reads no other place), ctr's hosts.toml
      certDir = path.join(work, `certs-${mode}`);
      await mkdir(certDir, { recursive: true });
      await copyFile(ca.cert, path.join(certDir, 'ca.crt'));
      const dockerCerts = `/etc/docker/certs.d/${host}`;
      certsDirs.push(dockerCerts);
      await mkdir(dockerCerts, { recursive: true });
      await copyFile(ca.cert, path.join(dockerCerts, 'ca.crt'));
      hostsDir = path.join(work, `hosts-${mode}`);
      await mkdir(path.join(hostsDir, host), { recursive: true });
      await writeFile(path.join(hostsDir, host, 'hosts.toml'), `server = "https://${host}"\n[host."https://${host}"]\n  ca = "${ca.cert}"\n`);
    }, 60_000);
    afterAll(async () => registry?.close());

    it('skopeo --creds pushes and pulls; a wrong password and a push bob may not do are refused', async () => {
      await ok(run('skopeo', ['copy', '--dest-cert-dir', certDir, '--dest-creds', creds('alice'), `oci:${layout}:v1`, `docker://${host}/e2e/skopeo:v1`]));
      await ok(run('skopeo', ['copy', '--src-cert-dir', certDir, '--src-creds', creds('bob'), `docker://${host}/e2e/skopeo:v1`, `oci:${work}/pulled-${mode}:v1`]));
      expect(existsSync(path.join(work, `pulled-${mode}`, 'index.json'))).toBe(true);
      const wrong = await run('skopeo', ['copy', '--dest-cert-dir', certDir, '--dest-creds', creds('alice', 'wrong'), `oci:${layout}:v1`, `docker://${host}/e2e/skopeo:v2`]);
      expect(wrong.status).not.toBe(0);
      expect(wrong.out).toMatch(/unauthorized|authentication required|401/i);
      const denied = await run('skopeo', ['copy', '--dest-cert-dir', certDir, '--dest-creds', creds('bob'), `oci:${layout}:v1`, `docker://${host}/e2e/skopeo:bob`]);
      expect(denied.status).not.toBe(0);
      expect(denied.out).toMatch(mode === 'htpasswd' ? /denied/i : /insufficient_scope|unauthorized|denied/i);
    });

    it('podman login, push and pull (vfs storage of the test\'s own)', async () => {
      const podman = ['--root', path.join(work, `podman-${mode}`), '--runroot', path.join(work, `podman-run-${mode}`), '--storage-driver', 'vfs'];
      const authfile = path.join(work, `podman-auth-${mode}.json`);
      const wrong = await run('podman', [...podman, 'login', '--authfile', authfile, '--cert-dir', certDir, '-u', 'alice', '--password-stdin', host], {}, 'wrong\n');
      expect(wrong.status).not.toBe(0);
      await ok(run('podman', [...podman, 'login', '--authfile', authfile, '--cert-dir', certDir, '-u', 'alice', '--password-stdin', host], {}, `${USERS.alice}\n`));
      await ok(run('podman', [...podman, 'pull', '--authfile', authfile, '--cert-dir', certDir, `${host}/e2e/skopeo:v1`]));
      await ok(run('podman', [...podman, 'tag', `${host}/e2e/skopeo:v1`, `${host}/e2e/podman:v1`]));
      await ok(run('podman', [...podman, 'push', '--authfile', authfile, '--cert-dir', certDir, `${host}/e2e/podman:v1`]));
      await ok(run('skopeo', ['inspect', '--cert-dir', certDir, '--creds', creds('bob'), `docker://${host}/e2e/podman:v1`]));
    });

    it('ctr (containerd) pulls and pushes with --user; a wrong password is refused', async () => {
      const ctr = ['-a', daemons!.containerdSocket, '-n', `e2e-${mode}`];
      await ok(run('ctr', [...ctr, 'images', 'pull', '--hosts-dir', hostsDir, '--user', creds('bob'), `${host}/e2e/skopeo:v1`]));
      await ok(run('ctr', [...ctr, 'images', 'tag', `${host}/e2e/skopeo:v1`, `${host}/e2e/ctr:v1`]));
      await ok(run('ctr', [...ctr, 'images', 'push', '--hosts-dir', hostsDir, '--user', creds('alice'), `${host}/e2e/ctr:v1`]));
      await ok(run('skopeo', ['inspect', '--cert-dir', certDir, '--creds', creds('bob'), `docker://${host}/e2e/ctr:v1`]));
      const wrong = await run('ctr', [...ctr, 'images', 'push', '--hosts-dir', hostsDir, '--user', creds('alice', 'wrong'), `${host}/e2e/ctr:v1`]);
      expect(wrong.status).not.toBe(0);
      expect(wrong.out).toMatch(/401|unauthorized/i);
    });

    it('docker login, push and pull (dockerd on vfs, the CA under /etc/docker/certs.d/<host:port>/)', async () => {
      const env = { DOCKER_HOST: daemons!.dockerHost, DOCKER_CONFIG: path.join(work, `docker-config-${mode}`) };
      const wrong = await run('docker', ['login', '-u', 'alice', '--password-stdin', host], env, 'wrong\n');
      expect(wrong.status).not.toBe(0);
      expect(wrong.out).toMatch(/unauthorized|401/i);
      await ok(run('docker', ['login', '-u', 'alice', '--password-stdin', host], env, `${USERS.alice}\n`));
      await ok(run('docker', ['pull', `${host}/e2e/skopeo:v1`], env));
      await ok(run('docker', ['tag', `${host}/e2e/skopeo:v1`, `${host}/e2e/docker:v1`], env));
      await ok(run('docker', ['push', `${host}/e2e/docker:v1`], env));
      await ok(run('docker', ['rmi', `${host}/e2e/docker:v1`], env));
      await ok(run('docker', ['pull', `${host}/e2e/docker:v1`], env));
    });
  });
}

describe('skopeo with a client certificate (mutual TLS, the CN is the user the rules name)', { timeout: 300_000 }, () => {
  let registry: AuthRegistry;
  let host: string;
  beforeAll(async () => {
    registry = await startAuthRegistry(
      () => ({ access: { groups: {}, anonymouspull: [], rules: [{ repositories: ['ci/**'], users: ['ci-robot'], groups: [], actions: ['pull', 'push'] }] } }),
      { tls: () => ({ certificate: server.cert, key: server.key, clientcas: [ca.cert], minimumtls: 'tls1.2' }) },
    );
    host = new URL(registry.url).host;
  });
  afterAll(async () => registry?.close());

  it('pushes and pulls with the robot certificate; without one, or with another CN, it is refused', async () => {
    const certDir = async (name: string, client?: IssuedCertificate): Promise<string> => {
      const dir = path.join(work, `mtls-${name}`);
      await mkdir(dir, { recursive: true });
      await copyFile(ca.cert, path.join(dir, 'ca.crt'));
      if (client) {
        await copyFile(client.cert, path.join(dir, 'client.cert'));
        await copyFile(client.key, path.join(dir, 'client.key'));
      }
      return dir;
    };
    const robot = await certDir('robot', ca.issue('robot', { cn: 'ci-robot', client: true }));
    await ok(run('skopeo', ['copy', '--dest-cert-dir', robot, `oci:${layout}:v1`, `docker://${host}/ci/app:v1`]));
    await ok(run('skopeo', ['inspect', '--cert-dir', robot, `docker://${host}/ci/app:v1`]));
    const none = await run('skopeo', ['inspect', '--cert-dir', await certDir('none'), `docker://${host}/ci/app:v1`]);
    expect(none.status).not.toBe(0);
    expect(none.out).toMatch(/certificate|tls|handshake|EOF|reset/i);
    const intern = await certDir('intern', ca.issue('intern', { cn: 'intern', client: true }));
    const denied = await run('skopeo', ['copy', '--dest-cert-dir', intern, `oci:${layout}:v1`, `docker://${host}/ci/app:v2`]);
    expect(denied.status).not.toBe(0);
    expect(denied.out, denied.out).toMatch(/denied|403/i);
  });
});
