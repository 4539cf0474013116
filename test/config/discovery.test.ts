import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const yamlConfig = (root: string) => `storage:\n  filesystem:\n    rootdirectory: ${root}\n`;

describe('finding the configuration', () => {
  it('runs on the embedded defaults when there is no file: filesystem under <cwd>/data, 127.0.0.1:5000, info, no delete', async () => {
    const cwd = await workdir();
    const config = await loadConfig({ cwd, env: {} });
    expect(config).toEqual({
      source: { format: 'defaults' },
      baseDir: cwd,
      log: { level: 'info' },
      http: { addr: '127.0.0.1:5000', prefix: '', headers: {}, listen: { host: '127.0.0.1', port: 5000 } },
      storage: {
        driver: 'filesystem',
        options: { rootdirectory: path.join(cwd, 'data') },
        optionsPath: 'storage.filesystem',
        optionSources: { rootdirectory: { file: '<defaults>', path: 'storage.filesystem.rootdirectory' } },
        quotas: [],
        delete: { enabled: false },
        redirect: { disable: false },
        maintenance: {
          uploadpurging: { enabled: true, age: '168h', interval: '24h', dryrun: false },
          readonly: { enabled: false },
          gc: { enabled: false, interval: '24h', graceperiod: '1h', settle: '1m', deleteuntagged: false, dryrun: false },
          catalog: { interval: '10m' },
      retention: { policies: [] },
        },
      },
      plugins: { paths: [] },
      ops: {
        log: { formatter: 'json', accesslog: { disabled: false } },
        http: { trustedproxies: [] },
        health: { storagedriver: { enabled: false, intervalMs: 10_000, threshold: 1 } },
        notifications: { endpoints: [], queuedir: path.join(cwd, 'data', 'notifications'), queuelimit: 10_000 },
      },
      search: { backend: 'sqlite', path: path.join(cwd, 'data', 'stowage-search.sqlite'), pathFrom: 'storage root' },
      warnings: [],
      refusals: [],
    });
  });

  it('finds stowage.config.yaml in the working directory', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': yamlConfig('/srv/a') });
    const config = await loadConfig({ cwd, env: {} });
    expect(config.source).toEqual({ file: path.join(cwd, 'stowage.config.yaml'), format: 'stowage' });
    expect(config.storage.options).toEqual({ rootdirectory: '/srv/a' });
  });

  it('finds stowage.config.yml, .json, .mjs and .cjs', async () => {
    const cases: Record<string, string> = {
      'stowage.config.yml': yamlConfig('/srv/yml'),
      'stowage.config.json': JSON.stringify({ storage: { filesystem: { rootdirectory: '/srv/json' } } }),
      'stowage.config.mjs': "export default { storage: { filesystem: { rootdirectory: '/srv/mjs' } } };\n",
      'stowage.config.cjs': "module.exports = { storage: { filesystem: { rootdirectory: '/srv/cjs' } } };\n",
    };
    for (const [name, text] of Object.entries(cases)) {
      const cwd = await workdir({ [name]: text });
      const config = await loadConfig({ cwd, env: {} });
      expect(config.source.file).toBe(path.join(cwd, name));
      expect(config.storage.options.rootdirectory).toBe(`/srv/${name.split('.').pop()}`);
    }
  });

  it('finds .stowagerc (YAML), .stowagerc.json and .stowagerc.yaml', async () => {
    for (const [name, text] of [
      ['.stowagerc', 'storage: inmemory\nhttp: {addr: "127.0.0.1:7000"}\n'],
      ['.stowagerc.json', '{"storage": "inmemory", "http": {"addr": "127.0.0.1:7000"}}'],
      ['.stowagerc.yaml', 'storage: inmemory\nhttp: {addr: "127.0.0.1:7000"}\n'],
    ] as const) {
      const cwd = await workdir({ [name]: text });
      const config = await loadConfig({ cwd, env: {} });
      expect(config.source.file).toBe(path.join(cwd, name));
      expect(config.storage.driver).toBe('inmemory');
      expect(config.http.addr).toBe('127.0.0.1:7000');
    }
  });

  it('finds the "stowage" key of package.json, and ignores a package.json without one', async () => {
    const withKey = await workdir({ 'package.json': JSON.stringify({ name: 'site', stowage: { storage: 'inmemory', log: { level: 'warn' } } }) });
    const config = await loadConfig({ cwd: withKey, env: {} });
    expect(config.source.file).toBe(path.join(withKey, 'package.json'));
    expect(config.log.level).toBe('warn');

    const without = await workdir({ 'package.json': JSON.stringify({ name: 'site' }), '.stowagerc': 'storage: inmemory\n' });
    expect((await loadConfig({ cwd: without, env: {} })).source.file).toBe(path.join(without, '.stowagerc'));
  });

  it('reads --config FILE (relative to the working directory) in preference to a file the search would find', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': yamlConfig('/srv/found'), 'etc/registry.yml': yamlConfig('/srv/named') });
    const config = await loadConfig({ cwd, configFile: 'etc/registry.yml', env: { DOCKER_REGISTRY_CONFIG: 'elsewhere.yml' } });
    expect(config.source.file).toBe(path.join(cwd, 'etc/registry.yml'));
    expect(config.baseDir).toBe(path.join(cwd, 'etc'));
    expect(config.storage.options.rootdirectory).toBe('/srv/named');
  });

  it('reads --config for a package.json, a JSON file and a file without extension', async () => {
    const cwd = await workdir({
      'a/package.json': JSON.stringify({ stowage: { storage: 'inmemory' } }),
      'b/registry.json': '{"storage": "inmemory"}',
      'c/registry': 'storage: inmemory\n',
    });
    for (const name of ['a/package.json', 'b/registry.json', 'c/registry']) {
      const config = await loadConfig({ cwd, configFile: name, env: {} });
      expect(config.source.file).toBe(path.join(cwd, name));
      expect(config.storage.driver).toBe('inmemory');
    }
  });

  it('reads the file DOCKER_REGISTRY_CONFIG names, relative to the working directory, before searching', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': yamlConfig('/srv/found'), 'config/config.yml': 'dev:\n  storage: local\n  storage_path: /srv/legacy\n' });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config/config.yml' } });
    expect(config.source).toEqual({ file: path.join(cwd, 'config/config.yml'), format: 'docker-registry', flavor: 'dev' });
    expect(config.storage.legacy?.storage_path).toEqual({ value: '/srv/legacy', path: 'dev.storage_path' });
  });

  it('does not look above the working directory', async () => {
    const parent = await workdir({ 'stowage.config.yaml': yamlConfig('/srv/parent'), 'child/.keep': '' });
    const config = await loadConfig({ cwd: path.join(parent, 'child'), env: {} });
    expect(config.source.format).toBe('defaults');
  });

  it('reports a --config file that does not exist, and one DOCKER_REGISTRY_CONFIG names', async () => {
    const cwd = await workdir();
    const missing = await configErrorOf(loadConfig({ cwd, configFile: 'nope.yml', env: {} }));
    expectIssue(missing, path.join(cwd, 'nope.yml'), '', 'file not found');
    const named = await configErrorOf(loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml' } }));
    expectIssue(named, path.join(cwd, 'config.yml'), '', 'file not found (named by DOCKER_REGISTRY_CONFIG)');
  });

  it('reports an empty config file', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': '# nothing yet\n' });
    const error = await configErrorOf(loadConfig({ cwd, env: {} }));
    expectIssue(error, path.join(cwd, 'stowage.config.yaml'), '', 'the file is empty', 'storage');
  });
});

describe('an empty file found by the search', () => {
  it('is reported rather than passed over', async () => {
    const cwd = await workdir({ '.stowagerc': '' });
    const error = await configErrorOf(loadConfig({ cwd, env: {} }));
    expectIssue(error, path.join(cwd, '.stowagerc'), '', 'the file is empty');
  });
});
