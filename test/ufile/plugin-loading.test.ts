/**
 * stowage's own plugin loader finds the built ufile plugin, maps a seed docker-registry config's ufile_* keys
 * through its manifest, applies the seed defaults, masks the private key, and the driver it builds works
 * against the UFile emulator. (Run after `tsc -b`: the loader imports the plugin's dist/.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createStorageDriver, MASK, preparePlugin } from '../../src/plugins/index.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let emulator: UFileEmulator;
let cwd: string;
beforeAll(async () => {
  emulator = await startUFileEmulator({ buckets: ['your-bucket'] });
  cwd = await mkdtemp(path.join(os.tmpdir(), 'ufile-plugin-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('loading the ufile plugin', () => {
  it('takes the seed keys of a docker-registry config, with the seed defaults', async () => {
    await writeFile(path.join(cwd, 'config.yml'), [
      'ufile:',
      '  storage: ufile',
      `  ufile_baseurl: http://your-bucket.localhost:${emulator.port}`,
      `  ufile_public_key: ${emulator.publicKey}`,
      `  ufile_private_key: ${emulator.privateKey}`,
      '',
    ].join('\n'));
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });
    const plugin = await preparePlugin(config);
    expect(plugin.package.manifest.name).toBe('ufile');
    expect(plugin.options).toMatchObject({ retries: 3, retryinterval: 1, timeout: 60 });
    expect(plugin.maskedOptions.privatekey).toBe(MASK);
    const driver = await createStorageDriver(plugin, silent, cwd);
    await driver.putContent('/docker/registry/v2/seeded', Buffer.from('seeded'));
    expect(emulator.bucket('your-bucket').get('docker/registry/v2/seeded')?.data.toString()).toBe('seeded');
    await driver.close?.();
  });

  it('reports a baseurl without a scheme at the seed key the operator wrote', async () => {
    await writeFile(path.join(cwd, 'config.yml'), 'ufile:\n  storage: ufile\n  ufile_baseurl: your-bucket.ufile.ucloud.cn\n  ufile_public_key: p\n  ufile_private_key: k\n');
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });
    await expect(preparePlugin(config)).rejects.toMatchObject({ message: expect.stringContaining('ufile_baseurl') });
  });
});
