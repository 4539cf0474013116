import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveEnvReference } from '../../src/config/legacy-env.js';
import { parseYamlText } from '../../src/config/parse-text.js';
import { configErrorOf, expectIssue, FIXTURES, workdir } from './helpers.js';

const fixture = (name: string) => ({ fixture: name });

describe('a Python docker-registry config.yml', () => {
  it('is read from DOCKER_REGISTRY_CONFIG with the flavor SETTINGS_FLAVOR names, merge keys resolved', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });

    expect(config.source).toEqual({ file: path.join(cwd, 'config.yml'), format: 'docker-registry', flavor: 'ufile' });
    expect(config.baseDir).toBe(cwd);
    expect(config.storage.driver).toBe('ufile');
    expect(config.storage.options).toEqual({});
    expect(config.storage.optionsPath).toBe('ufile');
    // loglevel and storage_redirect come from `common` through `<<: *common`
    expect(config.log.level).toBe('info');
    expect(config.storage.redirect.disable).toBe(true);
    expect(config.storage.delete.enabled).toBe(false);
  });

  it('puts every flat ufile_* key into storage.legacy with the path it was written at', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });

    expect(config.storage.legacy).toEqual({
      ufile_baseurl: { value: 'http://your-bucket.ufile.ucloud.cn', path: 'ufile.ufile_baseurl' },
      ufile_public_key: { value: 'your-ucloud-public-key', path: 'ufile.ufile_public_key' },
      ufile_private_key: { value: 'your-ucloud-private-key', path: 'ufile.ufile_private_key' },
      ufile_retries: { value: 3, path: 'ufile.ufile_retries' },
      ufile_retry_interval: { value: 1, path: 'ufile.ufile_retry_interval' },
      ufile_timeout: { value: 60, path: 'ufile.ufile_timeout' },
    });
  });

  it('takes _env values from the environment: LOGLEVEL and STORAGE_REDIRECT of the common section', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const config = await loadConfig({
      cwd,
      env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile', LOGLEVEL: 'WARNING', STORAGE_REDIRECT: 'true' },
    });
    expect(config.log.level).toBe('warn');
    expect(config.storage.redirect.disable).toBe(false);
  });

  it('turns the seeds\' cache and cache_lru into redis caches when their hosts are set, and into none when not', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const unset = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile' } });
    expect(unset.caches).toBeUndefined();
    const config = await loadConfig({
      cwd,
      env: {
        DOCKER_REGISTRY_CONFIG: 'config.yml',
        SETTINGS_FLAVOR: 'ufile',
        CACHE_REDIS_HOST: 'redis.internal',
        CACHE_REDIS_PORT: '6380',
        CACHE_REDIS_PASSWORD: 's3cret',
        CACHE_LRU_REDIS_HOST: 'lru.internal',
        CACHE_LRU_REDIS_PORT: '6381',
        CACHE_LRU_REDIS_DB: '2',
      },
    });
    expect(config.caches).toMatchObject({
      blobdescriptor: 'redis',
      redis: { host: 'redis.internal', port: 6380, db: 0, password: 's3cret' },
      lru: { host: 'lru.internal', port: 6381, db: 2 },
    });
    expect(config.caches?.lru).not.toHaveProperty('password');
  });

  it('cites keys merged by `<<: *common` at the flavor, where the merge put them', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const error = await configErrorOf(
      loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'ufile', LOGLEVEL: 'loud' } }),
    );
    expectIssue(error, path.join(cwd, 'config.yml'), 'ufile.loglevel', 'expected one of', 'got "loud"');
  });

  it('resolves merge keys from any anchor, not only common', async () => {
    const cwd = await workdir({
      'config.yml': 'base: &base\n  storage_path: /srv/base\n  s3_region: eu-west-1\nprod:\n  <<: *base\n  storage: s3\n  s3_region: us-east-1\n',
    });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: { SETTINGS_FLAVOR: 'prod' } });
    expect(config.storage.legacy).toEqual({
      storage_path: { value: '/srv/base', path: 'prod.storage_path' },
      s3_region: { value: 'us-east-1', path: 'prod.s3_region' },
    });
  });

  it('wants the flavor "dev" when SETTINGS_FLAVOR is unset, and lists the flavors present when it is missing', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const file = path.join(cwd, 'config.yml');
    const error = await configErrorOf(loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml' } }));
    expectIssue(error, file, 'dev', 'expected a flavor section "dev"', 'SETTINGS_FLAVOR is unset', 'flavors in this file: common, ufile');
    expect(error.issues).toHaveLength(1);
  });

  it('reports an unknown SETTINGS_FLAVOR with the flavors present', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const file = path.join(cwd, 'config.yml');
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: { SETTINGS_FLAVOR: 'prod' } }));
    expectIssue(error, file, 'prod', 'expected a flavor section "prod"', '(SETTINGS_FLAVOR)', 'common, ufile');
  });

  it('picks the flavor among several, the flavor winning over common', async () => {
    const cwd = await workdir({ 'registry.yml': fixture('docker-registry-typed-env.yml') });
    const dev = await loadConfig({ cwd, configFile: 'registry.yml', env: {} });
    expect(dev.source.flavor).toBe('dev');
    expect(dev.storage.driver).toBe('local');
    expect(dev.log.level).toBe('debug');
    expect(dev.storage.legacy).toEqual({ storage_path: { value: '/tmp/registry', path: 'dev.storage_path' } });

    const prod = await loadConfig({ cwd, configFile: 'registry.yml', env: { SETTINGS_FLAVOR: 'prod' } });
    expect(prod.source.flavor).toBe('prod');
    expect(prod.storage.driver).toBe('ufile');
    expect(prod.log.level).toBe('info');
  });

  it('reads an _env default as YAML: numbers, lists and strings with colons; an unset variable without default is absent', async () => {
    const cwd = await workdir({ 'registry.yml': fixture('docker-registry-typed-env.yml') });
    const config = await loadConfig({ cwd, configFile: 'registry.yml', env: { SETTINGS_FLAVOR: 'prod' } });
    expect(config.storage.legacy).toEqual({
      storage_path: { value: '/registry', path: 'prod.storage_path' },
      ufile_timeout: { value: 60, path: 'prod.ufile_timeout' },
      ufile_retries: { value: 3, path: 'prod.ufile_retries' },
      elliptics_groups: { value: [1, 2], path: 'prod.elliptics_groups' },
      elliptics_nodes: { value: 'host1:1025:2', path: 'prod.elliptics_nodes' },
      // absent, kept only to name the variable should the driver require the key
      ufile_baseurl: { value: null, path: 'prod.ufile_baseurl', unsetVariable: 'UFILE_BASEURL' },
      ufile_private_key: { value: null, path: 'prod.ufile_private_key', unsetVariable: 'UFILE_PRIVATE_KEY' },
    });
    // storage_redirect: _env:STORAGE_REDIRECT:true
    expect(config.storage.redirect.disable).toBe(false);
  });

  it('reads an _env variable as YAML too, as docker-registry did', async () => {
    const cwd = await workdir({ 'registry.yml': fixture('docker-registry-typed-env.yml') });
    const config = await loadConfig({
      cwd,
      configFile: 'registry.yml',
      env: {
        SETTINGS_FLAVOR: 'prod',
        STORAGE: 'elliptics',
        UFILE_BASEURL: 'http://bucket.cn-bj.ufileos.com',
        UFILE_PRIVATE_KEY: 'secret/with:colons',
        UFILE_TIMEOUT: '120',
        ELLIPTICS_GROUPS: '[3]',
        STORAGE_REDIRECT: 'no',
      },
    });
    expect(config.storage.driver).toBe('elliptics');
    expect(config.storage.legacy?.ufile_baseurl).toEqual({ value: 'http://bucket.cn-bj.ufileos.com', path: 'prod.ufile_baseurl' });
    expect(config.storage.legacy?.ufile_private_key?.value).toBe('secret/with:colons');
    expect(config.storage.legacy?.ufile_timeout?.value).toBe(120);
    expect(config.storage.legacy?.elliptics_groups?.value).toEqual([3]);
    expect(config.storage.redirect.disable).toBe(true);
  });

  it('handles the seed fixture\'s own _env defaults: 172800 is a number, [Content-Type] a list, the database URL a string', async () => {
    const parsed = parseYamlText(
      await import('node:fs/promises').then((fs) => fs.readFile(path.join(FIXTURES, 'docker-registry-ufile.yml'), 'utf8')),
      'docker-registry-ufile.yml',
    );
    expect(parsed.ok).toBe(true);
    const common = (parsed as { value: { common: Record<string, Record<string, string>> & Record<string, string> } }).value.common;
    const resolve = (reference: string) => resolveEnvReference(reference, {});
    expect(resolve(common.mirroring!.tags_cache_ttl!)).toEqual({ ok: true, value: 172800 });
    expect(resolve(common.cors!.headers!)).toEqual({ ok: true, value: ['Content-Type'] });
    expect(resolve(common.sqlalchemy_index_database as unknown as string)).toEqual({ ok: true, value: 'sqlite:////tmp/docker-registry.db' });
    expect(resolve(common.debug as unknown as string)).toEqual({ ok: true, value: false });
    expect(resolve(common.bugsnag as unknown as string)).toEqual({ ok: true, value: null });
  });

  it('reads the alioss seed\'s `_env:NAME[:default]` notation literally: variable "OSS_BUCKET[", default "default_value]"', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-oss.yml') });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'oss' } });
    expect(config.storage.driver).toBe('alioss');
    expect(config.storage.legacy).toEqual({
      storage_path: { value: '/devregistry/', path: 'oss.storage_path' },
      oss_bucket: { value: 'default_value]', path: 'oss.oss_bucket' },
      oss_accessid: { value: 'your_access_id]', path: 'oss.oss_accessid' },
      oss_accesskey: { value: 'your_access_key]', path: 'oss.oss_accesskey' },
    });

    // the variables the README tells operators to export are not the ones the notation names
    const exported = await loadConfig({
      cwd,
      env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'oss', OSS_BUCKET: 'registry', 'OSS_BUCKET[': 'bracketed', STORAGE_PATH: '/prod/' },
    });
    expect(exported.storage.legacy?.oss_bucket?.value).toBe('bracketed');
    expect(exported.storage.legacy?.storage_path?.value).toBe('/prod/');
  });

  it('reads the swift seed example, flat keys without a flavor, unset _env keys left out', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-swift.yml') });
    const config = await loadConfig({
      cwd,
      env: { DOCKER_REGISTRY_CONFIG: 'config.yml', OS_AUTH_URL: 'http://127.0.0.1:8080/auth/v1.0', OS_PASSWORD: 'testing' },
    });
    expect(config.source.format).toBe('docker-registry');
    expect(config.source.flavor).toBeUndefined();
    expect(config.storage.driver).toBe('swift');
    expect(config.storage.legacy).toEqual({
      storage_path: { value: '/registry', path: 'storage_path' },
      swift_authurl: { value: 'http://127.0.0.1:8080/auth/v1.0', path: 'swift_authurl' },
      swift_password: { value: 'testing', path: 'swift_password' },
      swift_container: { value: null, path: 'swift_container', unsetVariable: 'OS_CONTAINER' },
      swift_region_name: { value: null, path: 'swift_region_name', unsetVariable: 'OS_REGION_NAME' },
      swift_tenant_name: { value: null, path: 'swift_tenant_name', unsetVariable: 'OS_TENANT_NAME' },
      swift_user: { value: null, path: 'swift_user', unsetVariable: 'OS_USERNAME' },
    });
  });

  it('recognises the swift seed example as a docker-registry config even when found by the search', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': fixture('docker-registry-swift.yml') });
    const config = await loadConfig({ cwd, env: {} });
    expect(config.source.format).toBe('docker-registry');
    expect(config.storage.legacy?.storage_path?.path).toBe('storage_path');
  });

  it('reads the elliptics seed example: lists and numbers keep their types', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-elliptics.yml') });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.storage.driver).toBe('elliptics');
    expect(config.storage.legacy?.elliptics_nodes).toEqual({
      value: ['elliptics-host1:1025:2', 'elliptics-host2:1025:10', 'host:port:af'],
      path: 'elliptics_nodes',
    });
    expect(config.storage.legacy?.elliptics_groups?.value).toEqual([1, 2, 3]);
    expect(config.storage.legacy?.elliptics_wait_timeout?.value).toBe(60);
    expect(config.storage.legacy?.elliptics_logfile?.value).toBe('/tmp/logfile.log');
    expect(Object.keys(config.storage.legacy ?? {})).toHaveLength(10);
  });

  it('reads the elliptics README example as written: its `...` placeholder folds into the next item, as in PyYAML', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-elliptics-verbatim.yml') });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    // valid YAML: a plain scalar may span lines inside a flow sequence; the driver's own checks reject the node
    expect(config.storage.legacy?.elliptics_nodes?.value).toEqual([
      'elliptics-host1:1025:2',
      'elliptics-host2:1025:10',
      '... "host:port:af"',
    ]);
  });

  it('reads PyYAML booleans (yes/no/on/off) in a docker-registry file', async () => {
    const cwd = await workdir({
      'config.yml': 'dev:\n  storage: local\n  storage_path: /srv\n  storage_redirect: yes\n',
    });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.storage.redirect.disable).toBe(false);
  });

  it('keys only in common apply to the flavor and are cited at common.<key>', async () => {
    const cwd = await workdir({
      'config.yml': 'common:\n  loglevel: info\n  s3_bucket: shared\nprod:\n  storage: s3\n  storage_path: /srv/docker\n',
    });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: { SETTINGS_FLAVOR: 'prod' } });
    expect(config.storage.legacy).toEqual({
      s3_bucket: { value: 'shared', path: 'common.s3_bucket' },
      storage_path: { value: '/srv/docker', path: 'prod.storage_path' },
    });
  });

  it('reports a bad loglevel and a non-boolean storage_redirect at their paths in the flavor, with an env override on top', async () => {
    const cwd = await workdir({
      'config.yml': 'dev:\n  storage: local\n  storage_path: /srv\n  loglevel: loud\n  storage_redirect: sometimes\n',
    });
    const file = path.join(cwd, 'config.yml');
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: { REGISTRY_HTTP_ADDR: 'nowhere' } }));
    expectIssue(error, file, 'dev.loglevel', 'expected one of', 'got "loud"');
    expectIssue(error, file, 'dev.storage_redirect', 'expected a boolean', 'got "sometimes"');
    expectIssue(error, '<environment>', 'REGISTRY_HTTP_ADDR', 'expected "host:port"', 'got "nowhere"');
    expect(error.issues).toHaveLength(3);
  });

  it('reports a storage name no plugin could have at <flavor>.storage', async () => {
    const cwd = await workdir({ 'config.yml': 'prod:\n  storage: Ali OSS\n  oss_bucket: b\n' });
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: { SETTINGS_FLAVOR: 'prod' } }));
    expectIssue(error, path.join(cwd, 'config.yml'), 'prod.storage', 'expected a driver name', 'got "Ali OSS"');
    expect(error.issues).toHaveLength(1);
  });

  it('reports a flavor without storage, and an _env variable that is not YAML, hiding secret values', async () => {
    const cwd = await workdir({ 'config.yml': 'dev:\n  loglevel: info\n  swift_password: _env:OS_PASSWORD\n  swift_user: _env:OS_USER\n' });
    const file = path.join(cwd, 'config.yml');
    const error = await configErrorOf(
      loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: path.join(cwd, 'config.yml'), OS_PASSWORD: '[hunter2', OS_USER: '{bob' } }),
    );
    expectIssue(error, file, 'dev.storage', 'expected the name of a storage driver');
    const secret = expectIssue(error, file, 'dev.swift_password', 'environment variable OS_PASSWORD', '(value hidden)');
    expect(secret.message).not.toContain('hunter2');
    expectIssue(error, file, 'dev.swift_user', 'environment variable OS_USER');
    expect(error.message).not.toContain('hunter2');
  });

  it('lets REGISTRY_* variables override a translated docker-registry config', async () => {
    const cwd = await workdir({ 'config.yml': fixture('docker-registry-ufile.yml') });
    const config = await loadConfig({
      cwd,
      env: {
        DOCKER_REGISTRY_CONFIG: 'config.yml',
        SETTINGS_FLAVOR: 'ufile',
        REGISTRY_HTTP_ADDR: ':5000',
        REGISTRY_LOG_LEVEL: 'debug',
        REGISTRY_STORAGE_UFILE_TIMEOUT: '90',
      },
    });
    expect(config.http.addr).toBe(':5000');
    expect(config.log.level).toBe('debug');
    expect(config.storage.options).toEqual({ timeout: 90 });
    expect(config.storage.optionSources?.timeout).toEqual({ file: '<environment>', path: 'REGISTRY_STORAGE_UFILE_TIMEOUT' });
    expect(config.storage.legacy?.ufile_timeout?.value).toBe(60);
  });
});
