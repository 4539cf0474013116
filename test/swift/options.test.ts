/**
 * The plugins' manifests and option schemas: a docker-registry seed config (flat swift_* keys) and a
 * distribution config.yml both turn into valid options that work against the real Swift.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createStorageDriver, MASK, preparePlugin } from '../../src/plugins/index.js';
import { createDriver as createSwift } from '../../plugins/swift/src/index.js';
import { createDriver as createS3 } from '../../plugins/s3/src/index.js';
import { acquireSwift, type SwiftEndpoint } from './saio.js';
import { driverContext, uniqueName } from './drivers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const manifestOf = (plugin: string) =>
  JSON.parse(readFileSync(path.join(root, 'plugins', plugin, 'package.json'), 'utf8')) as {
    stowage: { name: string; apiVersion: number; schema: string; legacyOptions: Record<string, string> };
  };
const schemaOf = (plugin: string): object => JSON.parse(readFileSync(path.join(root, 'plugins', plugin, manifestOf(plugin).stowage.schema), 'utf8')) as object;

function validator(plugin: string) {
  const ajv = new Ajv2020.default({ useDefaults: true, allErrors: true, strict: false });
  return ajv.compile(schemaOf(plugin));
}

let endpoint: SwiftEndpoint;
let release: () => Promise<void>;

beforeAll(async () => {
  ({ endpoint, release } = await acquireSwift());
});

afterAll(async () => {
  await release?.();
});

describe('swift plugin options', () => {
  it('maps every seed key of the docker-registry swift driver, and the mapped options work', async () => {
    const { legacyOptions } = manifestOf('swift').stowage;
    const seed: Record<string, unknown> = {
      storage_path: '/registry',
      swift_authurl: endpoint.authUrl,
      swift_container: uniqueName('seed'),
      swift_user: endpoint.user,
      swift_password: endpoint.key,
      swift_tenant_name: 'test',
      swift_region_name: 'RegionOne',
      swift_auth_version: 1,
      swift_object_storage_url: endpoint.storageUrl,
    };
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(seed)) {
      expect(legacyOptions[key], `seed key ${key}`).toBeDefined();
      options[legacyOptions[key]!] = value;
    }
    expect(Object.keys(legacyOptions).sort()).toEqual([...Object.keys(seed), 'swift_cacert'].sort());
    const validate = validator('swift');
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    const driver = await createSwift(options as never, driverContext('swift'));
    try {
      await driver.putContent('/seed/file', Buffer.from('seed'));
      expect(Buffer.from(await driver.getContent('/seed/file')).toString()).toBe('seed');
    } finally {
      await driver.close?.();
    }
  });

  it('accepts distribution 2.8 swift options and applies its defaults', () => {
    const options: Record<string, unknown> = {
      authurl: 'https://keystone.example.com/v3',
      username: 'u',
      password: 'p',
      container: 'registry',
      region: 'RegionOne',
      tenant: 't',
      tenantid: 'tid',
      domain: 'Default',
      domainid: 'did',
      tenantdomain: 'Default',
      tenantdomainid: 'tdid',
      trustid: 'trust',
      insecureskipverify: true,
      chunksize: 5242880,
      prefix: '/reg',
      secretkey: 's',
      accesskey: 'a',
      authversion: 3,
      endpointtype: 'internal',
      tempurlcontainerkey: true,
      tempurlmethods: ['GET'],
    };
    const validate = validator('swift');
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options.maxretries).toBe(5);
  });

  it('rejects unknown options and a chunk size under 1 MiB', () => {
    const validate = validator('swift');
    expect(validate({ authurl: 'http://x/auth/v1.0', username: 'u', password: 'p', container: 'c', chunksize: 1000 })).toBe(false);
    expect(validate({ authurl: 'http://x/auth/v1.0', username: 'u', password: 'p', container: 'c', bogus: 1 })).toBe(false);
  });

  it('marks the secrets write-only so they are masked and redacted', () => {
    const properties = (schemaOf('swift') as { properties: Record<string, { writeOnly?: boolean }> }).properties;
    expect(Object.keys(properties).filter((k) => properties[k]!.writeOnly).sort()).toEqual(['accesskey', 'password', 'secretkey']);
  });
});

describe('config files written for other registries', () => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'swift-config-'));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  /** A docker-registry file through DOCKER_REGISTRY_CONFIG, a distribution one through --config. */
  async function optionsFrom(file: string, env: Record<string, string>, plugin: string): Promise<Record<string, unknown>> {
    const seed = 'SETTINGS_FLAVOR' in env;
    const config = await loadConfig(seed ? { cwd, env: { DOCKER_REGISTRY_CONFIG: file, ...env } } : { cwd, env, configFile: file });
    expect(config.storage.driver).toBe(plugin);
    const { legacyOptions } = manifestOf(plugin).stowage;
    const options: Record<string, unknown> = { ...config.storage.options };
    for (const [key, { value }] of Object.entries(config.storage.legacy ?? {})) options[legacyOptions[key] ?? key] = value;
    const validate = validator(plugin);
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    return options;
  }

  it('runs the swift driver from the seed README example (flavor, _env: values, storage_path)', async () => {
    await writeFile(
      path.join(cwd, 'seed.yml'),
      `common:
    loglevel: info

swift: &swift
    storage: swift
    storage_path: /registry
    swift_authurl: _env:OS_AUTH_URL
    swift_container: _env:OS_CONTAINER
    swift_user: _env:OS_USERNAME
    swift_password: _env:OS_PASSWORD
    swift_tenant_name: _env:OS_TENANT_NAME
    swift_region_name: _env:OS_REGION_NAME
    swift_auth_version: 1
`,
    );
    const container = uniqueName('seedyml');
    const options = await optionsFrom('seed.yml', {
      SETTINGS_FLAVOR: 'swift',
      OS_AUTH_URL: endpoint.authUrl,
      OS_CONTAINER: container,
      OS_USERNAME: endpoint.user,
      OS_PASSWORD: endpoint.key,
      OS_TENANT_NAME: 'test',
      OS_REGION_NAME: 'RegionOne',
    }, 'swift');
    expect(options).toMatchObject({ authurl: endpoint.authUrl, container, username: endpoint.user, prefix: '/registry', tenant: 'test' });
    const driver = await createSwift(options as never, driverContext('swift'));
    try {
      await driver.putContent('/docker/registry/v2/x', Buffer.from('seeded'));
      expect(Buffer.from(await driver.getContent('/docker/registry/v2/x')).toString()).toBe('seeded');
    } finally {
      await driver.close?.();
    }
  });

  it('runs the swift and s3 drivers from distribution config.yml files', async () => {
    const container = uniqueName('distyml');
    await writeFile(
      path.join(cwd, 'swift.yml'),
      `version: 0.1
storage:
  swift:
    authurl: ${endpoint.authUrl}
    username: ${endpoint.user}
    password: ${endpoint.key}
    container: ${container}
    chunksize: 5242880
    insecureskipverify: true
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
`,
    );
    const swift = await createSwift((await optionsFrom('swift.yml', {}, 'swift')) as never, driverContext('swift'));
    const bucket = uniqueName('distyml');
    await writeFile(
      path.join(cwd, 's3.yml'),
      `version: 0.1
storage:
  s3:
    region: us-east-1
    bucket: ${bucket}
    accesskey: ${endpoint.user}
    secretkey: ${endpoint.key}
    regionendpoint: ${endpoint.s3Endpoint}
    forcepathstyle: true
    secure: false
    v4auth: true
    chunksize: 5242880
    rootdirectory: /s3
    createbucket: true
http:
  addr: 127.0.0.1:5000
`,
    );
    const s3 = await createS3((await optionsFrom('s3.yml', {}, 's3')) as never, driverContext('s3'));
    try {
      await swift.putContent('/from/dist', Buffer.from('swift'));
      await s3.putContent('/from/dist', Buffer.from('s3'));
      expect(Buffer.from(await swift.getContent('/from/dist')).toString()).toBe('swift');
      expect(Buffer.from(await s3.getContent('/from/dist')).toString()).toBe('s3');
    } finally {
      await swift.close?.();
      await s3.close?.();
    }
  });
});

describe('the plugin loader', () => {
  it('finds the built-in swift and s3 plugins by name, masks their secrets and builds working drivers', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'swift-loader-'));
    try {
      await writeFile(
        path.join(cwd, 'stowage.config.yaml'),
        `storage:
  swift:
    authurl: ${endpoint.authUrl}
    username: ${endpoint.user}
    password: ${endpoint.key}
    container: ${uniqueName('loader')}
    secretkey: loader-tempurl-key
`,
      );
      const swiftConfig = await loadConfig({ cwd, env: {}, configFile: 'stowage.config.yaml' });
      const swiftPlugin = await preparePlugin(swiftConfig);
      expect(swiftPlugin.source).toBe('built-in');
      expect(swiftPlugin.maskedOptions).toMatchObject({ password: MASK, secretkey: MASK, username: endpoint.user });
      const swift = await createStorageDriver(swiftPlugin, driverContext('swift').logger, cwd);
      await swift.putContent('/loaded', Buffer.from('by name'));
      expect(Buffer.from(await swift.getContent('/loaded')).toString()).toBe('by name');
      await swift.close?.();

      await writeFile(
        path.join(cwd, 'stowage.config.yaml'),
        `storage:
  s3-aws:
    region: us-east-1
    bucket: ${uniqueName('loader')}
    accesskey: ${endpoint.user}
    secretkey: ${endpoint.key}
    regionendpoint: ${endpoint.s3Endpoint}
    forcepathstyle: true
    createbucket: true
`,
      );
      const s3Plugin = await preparePlugin(await loadConfig({ cwd, env: {}, configFile: 'stowage.config.yaml' }));
      expect(s3Plugin.package.manifest.name).toBe('s3');
      expect(s3Plugin.maskedOptions).toMatchObject({ secretkey: MASK });
      const s3 = await createStorageDriver(s3Plugin, driverContext('s3').logger, cwd);
      await s3.putContent('/loaded', Buffer.from('by alias'));
      expect(await s3.list('/')).toEqual(['/loaded']);
      await s3.close?.();
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});

describe('s3 plugin options', () => {
  it('accepts distribution s3 options, and the driver works with them against the S3 API', async () => {
    const options: Record<string, unknown> = {
      region: 'us-east-1',
      bucket: uniqueName('dist'),
      regionendpoint: endpoint.s3Endpoint,
      forcepathstyle: true,
      accesskey: endpoint.user,
      secretkey: endpoint.key,
      secure: false,
      v4auth: true,
      chunksize: 5242880,
      multipartcopychunksize: 33554432,
      multipartcopymaxconcurrency: 100,
      multipartcopythresholdsize: 33554432,
      rootdirectory: '/registry',
      storageclass: 'NONE',
      createbucket: true,
    };
    const validate = validator('s3');
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    const driver = await createS3(options as never, driverContext('s3'));
    try {
      await driver.putContent('/dist/file', Buffer.from('dist'));
      expect(await driver.list('/dist')).toEqual(['/dist/file']);
    } finally {
      await driver.close?.();
    }
  });

  it('refuses to start on a missing bucket unless told to create it', async () => {
    await expect(
      createS3({ region: 'us-east-1', bucket: uniqueName('absent'), regionendpoint: endpoint.s3Endpoint, forcepathstyle: true, accesskey: endpoint.user, secretkey: endpoint.key }, driverContext('s3')),
    ).rejects.toThrow(/does not exist/);
  });

  it('refuses to sign with a wrong secret: the S3 API answers 403 and the error names no secret', async () => {
    const failure = createS3(
      { region: 'us-east-1', bucket: uniqueName('x'), regionendpoint: endpoint.s3Endpoint, forcepathstyle: true, accesskey: endpoint.user, secretkey: 'not-the-secret', createbucket: true },
      driverContext('s3'),
    );
    await expect(failure).rejects.toThrow(/403/);
    await expect(failure).rejects.not.toThrow(/not-the-secret/);
  });
});
