/**
 * A docker-registry config.yml written for the seed alioss driver (its README's example, settings from the
 * environment; the README's `[:default]` brackets are its notation for an optional default, so written out) runs stowage's alioss driver unchanged: config loader -> storage.legacy -> the manifest's
 * legacyOptions -> the options schema -> the driver, against the OSS emulator.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { driverErrors } from '../../src/index.js';
import { createDriver, type AliOssOptions } from '../../plugins/alioss/src/index.js';
import { startOssEmulator, type OssEmulator } from './emulator.js';

const SEED_CONFIG = `
common: &common
  loglevel: info

oss: &oss
  <<: *common
  storage: alioss
  storage_path: _env:STORAGE_PATH:/devregistry/
  oss_bucket: _env:OSS_BUCKET
  oss_accessid: _env:OSS_KEY
  oss_accesskey: _env:OSS_SECRET
  oss_host: _env:OSS_HOST:oss.aliyuncs.com
`;

const pluginDir = new URL('../../plugins/alioss/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as { stowage: { legacyOptions: Record<string, string> } };
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as object;

let emulator: OssEmulator;
let cwd: string;
beforeAll(async () => {
  emulator = await startOssEmulator({ buckets: ['docker-registry'] });
  cwd = await mkdtemp(path.join(os.tmpdir(), 'alioss-seed-'));
  await writeFile(path.join(cwd, 'config.yml'), SEED_CONFIG);
});
afterAll(async () => {
  await emulator.close();
  await rm(cwd, { recursive: true, force: true });
});

describe('the seed alioss config', () => {
  it('drives stowage\'s alioss driver with the seed keys and environment variables', async () => {
    const config = await loadConfig({
      cwd,
      env: {
        DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'oss', OSS_BUCKET: 'docker-registry',
        OSS_KEY: emulator.accessKeyId, OSS_SECRET: emulator.accessKeySecret, OSS_HOST: `localhost:${emulator.port}`,
      },
    });
    expect(config.storage.driver).toBe('alioss');
    const options: Record<string, unknown> = { ...config.storage.options, secure: false };
    for (const [key, { value }] of Object.entries(config.storage.legacy ?? {})) options[manifest.stowage.legacyOptions[key] ?? key] = value;
    const validate = new Ajv2020({ useDefaults: true, strict: false }).compile(schema);
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options).toMatchObject({ bucket: 'docker-registry', rootdirectory: '/devregistry/', endpoint: `localhost:${emulator.port}` });

    const driver = await createDriver(options as unknown as AliOssOptions, { logger: { debug() {}, info() {}, warn() {}, error() {} }, errors: driverErrors('alioss'), baseDir: cwd });
    await driver.putContent('/docker/registry/v2/repositories/x/_layers/link', Buffer.from('sha256:abc'));
    expect(emulator.bucket('docker-registry').has('devregistry/docker/registry/v2/repositories/x/_layers/link')).toBe(true);
    expect(Buffer.from(await driver.getContent('/docker/registry/v2/repositories/x/_layers/link')).toString()).toBe('sha256:abc');
    await driver.close?.();
  });
});
