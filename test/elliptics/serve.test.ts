/**
 * `stowage serve` and `stowage config check` with the built-in elliptics plugin, found by name through the
 * real plugin loader: a seed docker-registry config is checked, and a registry process on emulated nodes
 * takes a push and a pull from skopeo.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt, runCli, serveCli } from '../cli/helpers.js';
import { buildImageLayout, sha256Digest } from '../support/oci-layout.js';
import { getManifest } from '../support/registry-client.js';
import { Skopeo, dockerRef, ociRef } from '../support/skopeo.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EmulatorCluster } from './emulator.js';

const PLUGIN = path.join(ROOT, 'plugins', 'elliptics');

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
    const full = path.join(dir, e.name);
    return Math.max(n, e.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }, 0);

/** The CLI loads plugins from their dist: build the plugin (and stowage) when missing or older than the sources. */
async function ensurePluginBuilt(): Promise<void> {
  await ensureBuilt();
  const entry = path.join(PLUGIN, 'dist', 'index.js');
  if (existsSync(entry) && statSync(entry).mtimeMs >= newest(path.join(PLUGIN, 'src'))) return;
  await promisify(execFile)('flock', ['/tmp/stowage-build.lock', 'npx', 'tsc', '-b', 'plugins/elliptics'], { cwd: ROOT, timeout: 300_000 });
}

let cluster: EmulatorCluster;
let work: string;
beforeAll(async () => {
  await ensurePluginBuilt();
  cluster = await new EmulatorCluster([{ groups: [1, 2] }, { groups: [1, 2] }]).start();
  work = await mkdtemp(path.join(os.tmpdir(), 'elliptics-serve-'));
}, 300_000);
afterAll(async () => {
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('stowage with the elliptics plugin', () => {
  it('config check cites the seed key, the item and the expected form of a bad remote', async () => {
    const file = path.join(work, 'seed.yml');
    await writeFile(file, 'prod:\n  storage: elliptics\n  elliptics_nodes: ["127.0.0.1:1025:2", "host:port:af"]\n  elliptics_groups: [1, 2]\n');
    const result = await runCli(['config', 'check', '--config', file], { cwd: work, env: { SETTINGS_FLAVOR: 'prod' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: prod.elliptics_nodes.1: must be host:port:family with a port in 1..65535 and family 2 (IPv4) or 10 (IPv6)`);
    expect(result.stderr).toContain('got "host:port:af"');
  });

  it('serves a registry on emulated Elliptics nodes that skopeo pushes to and pulls from', async () => {
    const config = path.join(work, 'stowage.config.yaml');
    await writeFile(config, `http:\n  addr: 127.0.0.1:0\nstorage:\n  elliptics:\n    nodes: "${cluster.remotes.join(' ')}"\n    groups: [1, 2]\n  delete:\n    enabled: true\n`);
    const serving = await serveCli(['--config', config], { cwd: work });
    const skopeo = await Skopeo.create();
    try {
      const image = await buildImageLayout(path.join(work, 'image'), 'v1', 'elliptics-serve');
      await skopeo.copy(ociRef(image.dir, 'v1'), dockerRef(new URL(serving.url).host, 'served/image', 'v1'), ['--preserve-digests']);
      const manifest = await getManifest(serving.url, 'served/image', 'v1');
      expect(manifest.status).toBe(200);
      expect(sha256Digest(manifest.body)).toBe(image.rootDigest);
      const hex = image.rootDigest.slice('sha256:'.length);
      const blobKey = keyId(`/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`, 'DOCKER');
      for (const group of [1, 2]) expect(sha256Digest(cluster.stored(group, blobKey)!)).toBe(image.rootDigest);
    } finally {
      await skopeo.dispose();
      expect(await serving.stop('SIGTERM')).toBe(0);
    }
  }, 120_000);
});
