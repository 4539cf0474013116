/**
 * A docker-registry config.yml written for the seed ufile driver (its README's example) runs stowage's ufile
 * driver unchanged: config loader -> storage.legacy -> the manifest's legacyOptions -> the options schema ->
 * the driver, against the UFile emulator, with the seed's retry and timeout settings in force.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { driverErrors } from '../../src/index.js';
import { createDriver, type UFileOptions } from '../../plugins/ufile/src/index.js';
import { startUFileEmulator, type UFileEmulator } from './emulator.js';

const pluginDir = new URL('../../plugins/ufile/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as { stowage: { legacyOptions: Record<string, string> } };
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as object;

let emulator: UFileEmulator;
let cwd: string;
beforeAll(async () => {
  emulator = await startUFileEmulator({ buckets: ['your-bucket'] });
  cwd = await mkdtemp(path.join(os.tmpdir(), 'ufile-seed-'));
  await writeFile(path.join(cwd, 'config.yml'), `
common: &common
  loglevel: info

ufile:
      <<: *common
      storage: ufile
      ufile_baseurl: http://your-bucket.localhost:${emulator.port}
      ufile_public_key: ${emulator.publicKey}
      ufile_private_key: ${emulator.privateKey}
      ufile_retries: 2
      ufile_retry_interval: 0
      ufile_timeout: 60
`);
});
afterAll(async () => {
  await emulator.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('the seed ufile config', () => {
  it('drives stowage\'s ufile driver with the seed keys, retrying as ufile_retries says', async () => {
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });
    expect(config.storage.driver).toBe('ufile');
    const options: Record<string, unknown> = { ...config.storage.options };
    for (const [key, { value }] of Object.entries(config.storage.legacy ?? {})) options[manifest.stowage.legacyOptions[key] ?? key] = value;
    const validate = new Ajv2020({ useDefaults: true, strict: false }).compile(schema);
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options).toMatchObject({ baseurl: `http://your-bucket.localhost:${emulator.port}`, retries: 2, retryinterval: 0, timeout: 60 });

    const driver = await createDriver(options as unknown as UFileOptions, { logger: { debug() {}, info() {}, warn() {}, error() {} }, errors: driverErrors('ufile'), baseDir: cwd });
    emulator.faults.add({ method: 'PUT', status: 503, times: 2 });
    await driver.putContent('/docker/registry/v2/x', Buffer.from('seeded'));
    expect(emulator.bucket('your-bucket').get('docker/registry/v2/x')?.data.toString()).toBe('seeded');
    emulator.faults.add({ method: 'GET', status: 503, times: 3 });
    await expect(driver.getContent('/docker/registry/v2/x')).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    await driver.close?.();
  });
});
