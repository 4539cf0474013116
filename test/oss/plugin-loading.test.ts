/**
 * stowage's own plugin loader finds the built alioss plugin by its name and by its alias `oss`, applies the
 * schema's defaults, masks the secret, and the driver it builds works against the OSS emulator.
 * (Run after `tsc -b`: the loader imports the plugin's dist/, as for any installed plugin.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createStorageDriver, MASK, preparePlugin } from '../../src/plugins/index.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let emulator: OssEmulator;
let cwd: string;
beforeAll(async () => {
  emulator = await startOssEmulator({ buckets: ['stowage'] });
  cwd = await mkdtemp(path.join(os.tmpdir(), 'alioss-plugin-'));
});
afterAll(async () => {
  await emulator.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('loading the alioss plugin', () => {
  for (const name of ['alioss', 'oss']) {
    it(`selects it as "${name}", with defaults applied and the secret masked`, async () => {
      await writeFile(path.join(cwd, 'stowage.config.yaml'), [
        'storage:',
        `  ${name}:`,
        `    accesskeyid: ${emulator.accessKeyId}`,
        `    accesskeysecret: ${emulator.accessKeySecret}`,
        '    bucket: stowage',
        `    region: oss-${emulator.region}`,
        `    endpoint: localhost:${emulator.port}`,
        '    secure: false',
        `    rootdirectory: /via-${name}`,
        '',
      ].join('\n'));
      const config = await loadConfig({ cwd, env: {} });
      const plugin = await preparePlugin(config);
      expect(plugin.package.manifest.name).toBe('alioss');
      expect(plugin.options).toMatchObject({ chunksize: 10485760, signatureversion: 'v1', retries: 3, retryinterval: 1, timeout: 60 });
      expect(plugin.maskedOptions.accesskeysecret).toBe(MASK);
      expect(plugin.secrets).toContain(emulator.accessKeySecret);
      const driver = await createStorageDriver(plugin, silent, cwd);
      await driver.putContent('/docker/registry/v2/hello', Buffer.from(name));
      expect(emulator.bucket('stowage').get(`via-${name}/docker/registry/v2/hello`)?.data.toString()).toBe(name);
      await driver.close?.();
    });
  }

  it('reports a part size below OSS\'s minimum at its place in the config file', async () => {
    await writeFile(path.join(cwd, 'stowage.config.yaml'), 'storage:\n  oss:\n    accesskeyid: a\n    accesskeysecret: b\n    bucket: stowage\n    region: oss-cn-hangzhou\n    chunksize: 1024\n');
    const config = await loadConfig({ cwd, env: {} });
    await expect(preparePlugin(config)).rejects.toMatchObject({ message: expect.stringContaining('chunksize') });
  });
});
