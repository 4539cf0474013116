/**
 * A mistyped name is answered with the name that was probably meant, and a value that came from an unset
 * `_env:` variable names the variable: the operator learns what to fix without reading stowage's code.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { closestName } from '../../src/config/suggest.js';
import { isPluginError, preparePlugin } from '../../src/plugins/index.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

async function pluginErrorFor(files: Record<string, string>, env: NodeJS.ProcessEnv = {}, configFile = 'config.yml') {
  const cwd = await workdir(files);
  const config = await loadConfig({ cwd, configFile, env });
  const failure = await preparePlugin(config).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isPluginError(failure), String(failure)).toBe(true);
  return { cwd, error: failure as Error & { code: string } };
}

describe('did you mean', () => {
  it('offers the driver a near-miss name was meant to be, and nothing for a name close to none', async () => {
    const { error } = await pluginErrorFor({ 'config.yml': 'storage: ufiel\n' });
    expect(error.code).toBe('PLUGIN_NOT_FOUND');
    expect(error.message).toContain('storage plugin "ufiel" was not found (did you mean "ufile"?); looked in:');

    const alias = await pluginErrorFor({ 'config.yml': 'storage: filesytem\n' });
    expect(alias.error.message).toContain('(did you mean "filesystem"?)');

    const far = await pluginErrorFor({ 'config.yml': 'storage: mongodb\n' });
    expect(far.error.message).toContain('storage plugin "mongodb" was not found; looked in:');
    expect(far.error.message).not.toContain('did you mean');
  });

  it('offers the section a mistyped top-level or nested key of distribution\'s config was meant to be', async () => {
    const cwd = await workdir({ 'config.yml': 'version: 0.1\nhtpp:\n  addr: :5000\nstorage:\n  inmemory: {}\n  delte: {enabled: true}\n' });
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: {} }));
    const file = path.join(cwd, 'config.yml');
    expectIssue(error, file, 'htpp', 'unknown key (did you mean "http"?)');
    // under storage, an unknown key is a driver's name: the plugin loader answers for it
    const http = await workdir({ 'config.yml': 'http:\n  adr: :5000\nstorage: inmemory\n' });
    expectIssue(await configErrorOf(loadConfig({ cwd: http, configFile: 'config.yml', env: {} })), path.join(http, 'config.yml'), 'http.adr', '(did you mean "addr"?)');
  });

  it('offers the option a mistyped driver option was meant to be', async () => {
    const { cwd, error } = await pluginErrorFor({ 'config.yml': 'storage:\n  filesystem:\n    rootdirectroy: /srv/x\n' });
    expect(error.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(error.message).toContain(`${path.join(cwd, 'config.yml')}: storage.filesystem.rootdirectroy: is not an option of the filesystem storage driver (did you mean "rootdirectory"?)`);
  });

  it('offers the docker-registry key a mistyped seed key was meant to be', async () => {
    const { error } = await pluginErrorFor({
      'config.yml': 'dev:\n  storage: ufile\n  ufile_baseurl: http://b.example.com\n  ufile_public_key: p\n  ufile_private_key: s\n  ufile_timout: 5\n',
    });
    expect(error.message).toContain('dev.ufile_timout: is not a setting of the ufile storage driver (did you mean "ufile_timeout"?)');
  });

  it('suggests only names within a typo of the one written', () => {
    expect(closestName('ufiel', ['ufile', 'swift', 's3'])).toBe('ufile');
    expect(closestName('htpp', ['http', 'log', 'storage'])).toBe('http');
    expect(closestName('s4', ['s3', 'swift'])).toBe('s3');
    expect(closestName('redis', ['http', 'log', 'storage'])).toBeUndefined();
    expect(closestName('ufile', ['ufile'])).toBeUndefined();
  });
});

describe('an unset _env: variable (docker-registry config)', () => {
  const config = 'common: &common\n  storage: ufile\nprod:\n  <<: *common\n  ufile_baseurl: _env:UFILE_BASEURL\n  ufile_public_key: _env:UFILE_PUBLIC_KEY\n  ufile_private_key: _env:UFILE_PRIVATE_KEY\n';

  it('behind a required option is named in the error, with the key it was written at', async () => {
    const { cwd, error } = await pluginErrorFor({ 'config.yml': config }, { SETTINGS_FLAVOR: 'prod', UFILE_PUBLIC_KEY: 'p', UFILE_PRIVATE_KEY: 's' });
    expect(error.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(error.message).toContain(
      `${path.join(cwd, 'config.yml')}: prod.ufile_baseurl: is required, but environment variable UFILE_BASEURL is unset (_env:UFILE_BASEURL has no default)`,
    );
    expect(error.message).not.toContain('UFILE_PUBLIC_KEY');
  });

  it('is not an error behind an optional key, which takes the driver\'s default as in docker-registry', async () => {
    const cwd = await workdir({ 'config.yml': `${config}  ufile_timeout: _env:UFILE_TIMEOUT\n`, 'without.yml': config });
    const env = { SETTINGS_FLAVOR: 'prod', UFILE_BASEURL: 'http://b.example.com', UFILE_PUBLIC_KEY: 'p', UFILE_PRIVATE_KEY: 's' };
    const plugin = await preparePlugin(await loadConfig({ cwd, configFile: 'config.yml', env }));
    const withoutKey = await preparePlugin(await loadConfig({ cwd, configFile: 'without.yml', env }));
    expect(plugin.options.baseurl).toBe('http://b.example.com');
    expect(plugin.options).toEqual(withoutKey.options);
  });

  it('naming the storage driver is named in the error', async () => {
    const cwd = await workdir({ 'config.yml': 'dev:\n  storage: _env:STORAGE_DRIVER\n  storage_path: /srv\n' });
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: {} }));
    expectIssue(error, path.join(cwd, 'config.yml'), 'dev.storage', 'environment variable STORAGE_DRIVER is unset');
  });
});
