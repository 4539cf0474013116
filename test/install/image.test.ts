/**
 * stowage's own container image, end to end: `scripts/build-image.mjs` writes an OCI image layout from this
 * checkout without downloading a base image (this machine's node and the libraries it links, and stowage's
 * production files); skopeo pushes it into a running stowage; podman pulls it from there and runs it with
 * port 5000 published; a push to the containerised stowage is stored and read back; `podman stop` (SIGTERM
 * to node as PID 1) ends it cleanly.
 *
 * podman runs as root inside a sandbox here, which takes a few flags that are harmless elsewhere: the vfs
 * storage driver (no overlay mounts), runc with the cgroupfs manager (crun refuses this machine's hybrid
 * cgroups), and rlimits no higher than the sandbox's (it refuses to raise them).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT, serveCli, type ServingCli } from '../cli/helpers.js';
import { tempDir } from '../plugins/helpers.js';
import { ensureDebianTools, SKOPEO } from '../support/debian.js';
import { freeLoopbackPort, waitForRegistry } from '../support/ports.js';

const run = promisify(execFile);

interface Descriptor {
  digest: string;
  size: number;
  mediaType: string;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('the stowage container image', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let layout: string;
  let registry: ServingCli;
  let podmanArgs: string[];
  let containerName: string;
  const podman = (...args: string[]) => run('podman', [...podmanArgs, ...args], { timeout: 300_000, maxBuffer: 1 << 26 });

  beforeAll(async () => {
    ensureDebianTools(SKOPEO, { package: 'podman', binary: 'podman' }, { package: 'runc', binary: 'runc' });
    await ensureBuilt();
    await run(process.execPath, [path.join(ROOT, 'scripts', 'build-info.mjs')], { cwd: ROOT });
    work = await tempDir('image');
    layout = path.join(work.dir, 'layout');
    await run(process.execPath, [path.join(ROOT, 'scripts', 'build-image.mjs'), '--out', layout, '--tag', 'dev'], { cwd: work.dir, timeout: 600_000 });
    const config = path.join(work.dir, 'registry.yaml');
    await writeFile(config, `http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(work.dir, 'registry-data')}\n`);
    registry = await serveCli(['--config', config], { cwd: work.dir });
    podmanArgs = [
      '--root', path.join(work.dir, 'podman', 'storage'),
      '--runroot', path.join(work.dir, 'podman', 'run'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--runtime', 'runc',
    ];
    containerName = `stowage-image-test-${process.pid}`;
  }, 900_000);

  afterAll(async () => {
    if (podmanArgs) await podman('rm', '--force', '--ignore', containerName).catch(() => undefined);
    if (podmanArgs) await podman('rmi', '--all', '--force').catch(() => undefined);
    await registry?.stop();
    await work?.remove();
  }, 120_000);

  it('is an OCI image layout whose config names every layer by the digest of its content', async () => {
    const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: (Descriptor & { annotations: Record<string, string> })[] };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]!.annotations['org.opencontainers.image.ref.name']).toBe('dev');
    const blob = (digest: string) => readFile(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    const manifestBytes = await blob(index.manifests[0]!.digest);
    expect(sha256(manifestBytes)).toBe(index.manifests[0]!.digest);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    const config = JSON.parse((await blob(manifest.config.digest)).toString()) as {
      config: { Entrypoint: string[]; User: string; StopSignal: string; Labels: Record<string, string> };
      rootfs: { diff_ids: string[] };
    };
    expect(manifest.layers).toHaveLength(3);
    for (const [i, layer] of manifest.layers.entries()) {
      const bytes = await blob(layer.digest);
      expect(bytes.length).toBe(layer.size);
      expect(sha256(bytes)).toBe(layer.digest);
      expect(config.rootfs.diff_ids[i]).toBe(layer.digest);
    }
    const { stdout: head } = await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT });
    expect(config.config.Labels['org.opencontainers.image.revision']).toBe(head.trim());
    expect(config.config.Entrypoint[0]).toBe('/usr/bin/node');
    expect(config.config.User).not.toMatch(/^0?(:|$)/);
    expect(config.config.StopSignal).toBe('SIGTERM');
    // the runtime layer holds node and the dynamic loader; the second, stowage's entry point
    const { stdout: runtimeFiles } = await run('tar', ['-tf', path.join(layout, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7))], { maxBuffer: 1 << 24 });
    expect(runtimeFiles.split('\n')).toContain('./usr/bin/node');
    expect(runtimeFiles).toMatch(/ld-linux[^\n]*\.so/);
  });

  it('is pushed into a running stowage by skopeo, pulled from it and run by podman, and serves on the published port', async () => {
    const registryHost = new URL(registry.url).host;
    const { stdout: pushed } = await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:dev`, `docker://${registryHost}/stowage:dev`], { timeout: 300_000 });
    expect(pushed).toContain('Writing manifest');

    await podman('pull', '--tls-verify=false', `${registryHost}/stowage:dev`);
    const hostPort = await freeLoopbackPort();
    await podman(
      'run', '--detach', '--name', containerName,
      '--publish', `127.0.0.1:${hostPort}:5000`,
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
      `${registryHost}/stowage:dev`,
    );
    const served = `http://127.0.0.1:${hostPort}`;
    await waitForRegistry(served, 60_000);
    expect((await fetch(`${served}/v2/`)).status).toBe(200);

    const blob = Buffer.from(`a blob stored by stowage inside its own image ${Date.now()}`);
    const digest = sha256(blob);
    const put = await fetch(`${served}/v2/from/container/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: blob,
    });
    expect(put.status).toBe(201);
    const got = await fetch(`${served}/v2/from/container/blobs/${digest}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(blob)).toBe(true);

    // node as PID 1 runs with the memory options the stowage command sets elsewhere (docs/config.md, "Memory")
    const { stdout: environ } = await podman('exec', containerName, '/usr/bin/node', '-e', "process.stdout.write(require('fs').readFileSync('/proc/1/environ'))");
    expect(environ.split('\0')).toEqual(expect.arrayContaining(['MALLOC_ARENA_MAX=2', 'NODE_OPTIONS=--max-semi-space-size=4', 'UV_THREADPOOL_SIZE=16']));

    const { stdout: version } = await podman('exec', containerName, '/usr/bin/node', '/usr/local/lib/node_modules/stowage/bin/stowage.js', '--version');
    const { stdout: head } = await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT });
    expect(version).toContain(`(commit ${head.trim()}`);
  }, 900_000);

  it('stops on SIGTERM (podman stop): node as PID 1 drains and exits 0', async () => {
    await podman('stop', '--time', '60', containerName);
    const { stdout: exitCode } = await podman('inspect', containerName, '--format', '{{.State.ExitCode}}');
    expect(exitCode.trim()).toBe('0');
    const { stdout, stderr } = await podman('logs', containerName);
    expect(`${stdout}${stderr}`).toContain('"signal":"SIGTERM"');
    expect(`${stdout}${stderr}`).toContain('stowage stopped');
  }, 120_000);
});
