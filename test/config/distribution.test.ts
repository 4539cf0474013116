import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { workdir } from './helpers.js';

describe("distribution's config.yml", () => {
  it('works unchanged: the registry:2 image default, filesystem under /var/lib/registry', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-config.yml' } });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });

    expect(config.source).toEqual({ file: path.join(cwd, 'config.yml'), format: 'stowage' });
    expect(config.storage.driver).toBe('filesystem');
    expect(config.storage.options).toEqual({ rootdirectory: '/var/lib/registry' });
    expect(config.storage.optionsPath).toBe('storage.filesystem');
    expect(config.storage.optionSources?.rootdirectory).toEqual({ file: path.join(cwd, 'config.yml'), path: 'storage.filesystem.rootdirectory' });
    expect(config.storage.legacy).toBeUndefined();
    expect(config.http.addr).toBe(':5000');
    // `:5000` names no host: every interface, as distribution listens
    expect(config.http.listen).toEqual({ port: 5000 });
    expect(config.http.headers).toEqual({ 'X-Content-Type-Options': 'nosniff' });
    expect(config.log.level).toBe('info');
    expect(config.storage.delete.enabled).toBe(false);
    expect(config.storage.redirect.disable).toBe(false);
    expect(config.storage.maintenance).toEqual({
      uploadpurging: { enabled: true, age: '168h', interval: '24h', dryrun: false },
      readonly: { enabled: false },
      gc: { enabled: false, interval: '24h', graceperiod: '1h', settle: '1m', deleteuntagged: false, dryrun: false },
      catalog: { interval: '10m' },
      retention: { policies: [] },
    });
    // health and storage.cache are implemented; log.fields is accepted and ignored, said so rather than silently
    expect(config.caches).toEqual({ blobdescriptor: 'inmemory', ttl: '10m', inmemorysize: 64 * 1024 * 1024 });
    expect(config.warnings?.map((w) => w.path)).toEqual(['log.fields']);
  });

  it('reads delete, redirect, maintenance, prefix, headers, auth, health, access log and notifications, and warns about notifications.events and redis', async () => {
    const cwd = await workdir({ 'config.yml': { fixture: 'distribution-production.yml' } });
    const file = path.join(cwd, 'config.yml');
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });

    expect(config.storage.driver).toBe('s3');
    expect(config.storage.options).toMatchObject({ region: 'us-east-1', bucket: 'my-bucket', encrypt: true });
    expect(config.storage.delete.enabled).toBe(true);
    expect(config.storage.redirect.disable).toBe(true);
    expect(config.storage.maintenance.uploadpurging).toEqual({ enabled: true, age: '72h', interval: '12h', dryrun: false });
    expect(config.log.level).toBe('debug');
    expect(config.http).toMatchObject({
      addr: '0.0.0.0:5000',
      prefix: '/registry',
      listen: { host: '0.0.0.0', port: 5000 },
      headers: { 'X-Content-Type-Options': 'nosniff', 'Access-Control-Allow-Origin': '*, https://example.com' },
      host: 'https://registry.example.com',
      relativeurls: false,
      secret: 'asecretforlocaldevelopment',
    });
    expect(config.auth).toEqual({ htpasswd: { realm: 'basic-realm', path: '/etc/registry/htpasswd' } });
    expect(config.ops?.health.storagedriver).toEqual({ enabled: true, intervalMs: 10_000, threshold: 3 });
    expect(config.ops?.log.accesslog.disabled).toBe(true);
    expect(config.ops?.notifications.endpoints).toEqual([
      expect.objectContaining({ name: 'alistener', url: 'https://my.listener.com/event', timeoutMs: 1000, threshold: 10, backoffMs: 1000, disabled: false }),
    ]);
    expect(config.ops?.notifications.queuedir).toBe(path.join(cwd, 'data', 'notifications'));
    // storage.cache.blobdescriptor: redis uses the top-level redis section
    expect(config.caches).toMatchObject({ blobdescriptor: 'redis', redis: { host: 'localhost', port: 6379, db: 0, dialtimeout: '5s' } });
    expect(config.warnings?.map((w) => `${w.file}: ${w.path}`)).toEqual([
      `${file}: notifications.events`,
      `${file}: http.draintimeout`,
      `${file}: http.http2`,
    ]);
    expect(config.refusals).toEqual([]);
  });

  it('accepts the deprecated top-level loglevel and logrus spellings of levels', async () => {
    const cwd = await workdir({ 'config.yml': 'version: "0.1"\nloglevel: WARNING\nstorage: inmemory\n' });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.log.level).toBe('warn');
    expect(config.storage.driver).toBe('inmemory');
  });

  it('reads a driver with no options (`inmemory:`) as the driver with empty options', async () => {
    const cwd = await workdir({ 'config.yml': 'storage:\n  inmemory:\n  delete:\n    enabled: true\n' });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.storage.driver).toBe('inmemory');
    expect(config.storage.options).toEqual({});
    expect(config.storage.delete.enabled).toBe(true);
  });

  it('takes an IPv6 address apart for listening', async () => {
    const cwd = await workdir({ 'config.yml': 'storage: inmemory\nhttp:\n  addr: "[::1]:5001"\n' });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.http.listen).toEqual({ host: '::1', port: 5001 });
  });
});

describe("stowage's shorthand", () => {
  it('`storage: ufile` selects the driver with its default options; plugins.paths become absolute from the file\'s folder', async () => {
    const cwd = await workdir({ 'conf/stowage.yml': { fixture: 'stowage-shorthand.yml' } });
    const config = await loadConfig({ cwd, configFile: 'conf/stowage.yml', env: {} });

    expect(config.source).toEqual({ file: path.join(cwd, 'conf/stowage.yml'), format: 'stowage' });
    expect(config.baseDir).toBe(path.join(cwd, 'conf'));
    expect(config.storage.driver).toBe('ufile');
    expect(config.storage.options).toEqual({});
    expect(config.storage.optionsPath).toBe('storage.ufile');
    expect(config.storage.legacy).toBeUndefined();
    expect(config.http.addr).toBe('127.0.0.1:5005');
    expect(config.plugins.paths).toEqual([path.join(cwd, 'conf/plugins'), '/opt/stowage/plugins']);
  });

  it('accepts a scoped npm package as the driver name', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': 'storage:\n  "@acme/stowage-driver-x":\n    bucket: b\n' });
    const config = await loadConfig({ cwd, env: {} });
    expect(config.storage.driver).toBe('@acme/stowage-driver-x');
    expect(config.storage.options).toEqual({ bucket: 'b' });
  });
});
