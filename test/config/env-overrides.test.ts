import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const ENV = '<environment>';

describe('REGISTRY_* environment overrides', () => {
  it('set driver options by path: REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-config.yml' } });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/x' } });
    expect(config.storage.options).toEqual({ rootdirectory: '/x' });
    expect(config.storage.optionSources?.rootdirectory).toEqual({ file: ENV, path: 'REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY' });
  });

  it('set http.addr and log.level, and coerce booleans where the schema wants them', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-config.yml' } });
    const config = await loadConfig({
      cwd,
      configFile: 'config.yml',
      env: {
        REGISTRY_HTTP_ADDR: '127.0.0.1:6001',
        REGISTRY_LOG_LEVEL: 'DEBUG',
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        REGISTRY_STORAGE_REDIRECT_DISABLE: 'TRUE',
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_DRYRUN: 'true',
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_AGE: '1h',
      },
    });
    expect(config.http.addr).toBe('127.0.0.1:6001');
    expect(config.http.listen).toEqual({ host: '127.0.0.1', port: 6001 });
    expect(config.log.level).toBe('debug');
    expect(config.storage.delete.enabled).toBe(true);
    expect(config.storage.redirect.disable).toBe(true);
    expect(config.storage.maintenance.uploadpurging).toMatchObject({ dryrun: true, age: '1h' });
  });

  it('apply on top of the embedded defaults', async () => {
    const cwd = await workdir();
    const config = await loadConfig({ cwd, env: { REGISTRY_HTTP_ADDR: ':5000', REGISTRY_STORAGE_DELETE_ENABLED: 'true' } });
    expect(config.source.format).toBe('defaults');
    expect(config.http.listen).toEqual({ port: 5000 });
    expect(config.storage.delete.enabled).toBe(true);
    expect(config.storage.options).toEqual({ rootdirectory: path.join(cwd, 'data') });
  });

  it('set list items by index, resolved against the working directory', async () => {
    const cwd = await workdir({ 'etc/stowage.yml': 'storage: inmemory\nplugins:\n  paths: [./from-file]\n' });
    const config = await loadConfig({
      cwd,
      configFile: 'etc/stowage.yml',
      env: { REGISTRY_PLUGINS_PATHS_1: './from-env', REGISTRY_PLUGINS_PATHS_2: '/abs' },
    });
    expect(config.plugins.paths).toEqual([path.join(cwd, 'etc/from-file'), path.join(cwd, 'from-env'), '/abs']);

    const fresh = await loadConfig({ cwd, configFile: 'etc/stowage.yml', env: { REGISTRY_PLUGINS_PATHS_0: '/replaced' } });
    expect(fresh.plugins.paths).toEqual(['/replaced']);
  });

  it('type driver options by what reads back unchanged: true, 5, [a, b] typed; 0123 and secrets stay strings', async () => {
    const cwd = await workdir({ 'config.yml': 'storage:\n  s3:\n    region: us-east-1\n' });
    const config = await loadConfig({
      cwd,
      configFile: 'config.yml',
      env: {
        REGISTRY_STORAGE_S3_SECURE: 'true',
        REGISTRY_STORAGE_S3_CHUNKSIZE: '5242880',
        REGISTRY_STORAGE_S3_SECRETKEY: '0123',
        REGISTRY_STORAGE_S3_REGIONS: '[a, b]',
        REGISTRY_STORAGE_S3_BUCKET: 'my-bucket',
      },
    });
    expect(config.storage.options).toEqual({
      region: 'us-east-1',
      secure: true,
      chunksize: 5242880,
      secretkey: '0123',
      regions: ['a', 'b'],
      bucket: 'my-bucket',
    });
  });

  it('REGISTRY_STORAGE switches the driver, keeping delete/redirect, and the shorthand grows options', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-production.yml' } });
    const config = await loadConfig({
      cwd,
      configFile: 'config.yml',
      env: { REGISTRY_STORAGE: 'filesystem', REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: '/srv/registry' },
    });
    expect(config.storage.driver).toBe('filesystem');
    expect(config.storage.options).toEqual({ rootdirectory: '/srv/registry' });
    expect(config.storage.delete.enabled).toBe(true);

    const short = await workdir({ 'config.yml': 'storage: ufile\n' });
    const grown = await loadConfig({ cwd: short, configFile: 'config.yml', env: { REGISTRY_STORAGE_UFILE_BASEURL: 'http://127.0.0.1:9000' } });
    expect(grown.storage.driver).toBe('ufile');
    expect(grown.storage.options).toEqual({ baseurl: 'http://127.0.0.1:9000' });
  });

  it('match keys already in the file case-insensitively, and headers keep their case', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-config.yml' } });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: { 'REGISTRY_HTTP_HEADERS_X-CONTENT-TYPE-OPTIONS': 'nosniff, noopen' } });
    expect(config.http.headers).toEqual({ 'X-Content-Type-Options': 'nosniff, noopen' });
  });

  it('warn about variables for sections stowage does not have, and leave REGISTRY_CONFIGURATION_PATH alone', async () => {
    const cwd = await workdir({ 'x.yml': 'storage: inmemory\n' });
    const config = await loadConfig({ cwd, env: { REGISTRY_PORT: '5000', REGISTRY_CONFIGURATION_PATH: 'x.yml' } });
    expect(config.warnings).toEqual([{ file: ENV, path: 'REGISTRY_PORT', message: 'ignored: stowage\'s configuration has no "port" section' }]);
  });

  it('that make the config invalid are reported with the variable name, secrets hidden', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-config.yml' } });
    const error = await configErrorOf(
      loadConfig({
        cwd,
        configFile: 'config.yml',
        env: {
          REGISTRY_HTTP_ADDR: '5000',
          REGISTRY_STORAGE_DELETE_ENABLED: 'maybe',
          REGISTRY_LOG_LEVEL: 'chatty',
          REGISTRY_HTTP_SECRET: '{"x": 1}',
          REGISTRY_HTTP_BOGUS: '1',
          REGISTRY_PLUGINS_PATHS_3: './p',
          REGISTRY_STORAGE_S3_REGION: 'us-east-1',
        },
      }),
    );
    expectIssue(error, ENV, 'REGISTRY_HTTP_ADDR', 'expected "host:port"', 'got "5000"');
    expectIssue(error, ENV, 'REGISTRY_STORAGE_DELETE_ENABLED', 'expected a boolean', 'got "maybe"');
    expectIssue(error, ENV, 'REGISTRY_LOG_LEVEL', 'expected one of trace, debug, info, warn, error, fatal', 'got "chatty"');
    expectIssue(error, ENV, 'REGISTRY_HTTP_BOGUS', 'unknown key', 'addr');
    expectIssue(error, ENV, 'REGISTRY_PLUGINS_PATHS_3', 'expected a list index from 0 to 0');
    // a second driver beside the file's filesystem
    expectIssue(error, path.join(cwd, 'config.yml'), 'storage', 'expected exactly one storage driver, found 2: filesystem, s3');
    expect(error.issues).toHaveLength(6);
    expect(error.message).not.toContain('"x"');
  });
});
