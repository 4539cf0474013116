import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

async function errorFor(name: string, text: string, env: NodeJS.ProcessEnv = {}) {
  const cwd = await workdir({ [name]: text });
  return { error: await configErrorOf(loadConfig({ cwd, configFile: name, env })), file: path.join(cwd, name) };
}

describe('config errors name the file, the path inside it and what was expected', () => {
  it('two storage drivers', async () => {
    const { error, file } = await errorFor(
      'config.yml',
      'storage:\n  filesystem:\n    rootdirectory: /a\n  s3:\n    bucket: b\n  delete:\n    enabled: true\n',
    );
    expectIssue(error, file, 'storage', 'expected exactly one storage driver, found 2: filesystem, s3');
    expect(error.issues).toHaveLength(1);
  });

  it('no storage driver, and no storage section at all', async () => {
    const none = await errorFor('config.yml', 'storage:\n  delete:\n    enabled: true\n');
    expectIssue(none.error, none.file, 'storage', 'expected exactly one storage driver', 'found none');

    const missing = await errorFor('config.yml', 'http:\n  addr: 127.0.0.1:5000\n');
    expectIssue(missing.error, missing.file, 'storage', 'expected a storage section naming one driver');
  });

  it('http.workers that is not a whole number from 1 to 256 or "auto"; a number and "auto" are kept as given', async () => {
    for (const bad of ['0', '257', '1.5', 'many', '-1']) {
      const { error, file } = await errorFor('config.yml', `storage: inmemory\nhttp:\n  workers: ${bad}\n`);
      expectIssue(error, file, 'http.workers', 'expected a whole number of processes from 1 to 256, or "auto"');
    }
    for (const [text, kept] of [['4', 4], ['auto', 'auto']] as const) {
      const cwd = await workdir({ 'config.yml': `storage: inmemory\nhttp:\n  workers: ${text}\n` });
      expect((await loadConfig({ cwd, configFile: 'config.yml', env: {} })).http.workers).toBe(kept);
    }
    const env = await workdir({ 'config.yml': 'storage: inmemory\n' });
    expect((await loadConfig({ cwd: env, configFile: 'config.yml', env: { REGISTRY_HTTP_WORKERS: '3' } })).http.workers).toBe(3);
  });

  it('http.hashthread that is neither a boolean nor "auto" is refused; true, false and "auto" are kept, absent stays absent (auto)', async () => {
    for (const bad of ['yes-please', '1', '[true]', 'Auto']) {
      const { error, file } = await errorFor('config.yml', `storage: inmemory\nhttp:\n  hashthread: ${bad}\n`);
      expectIssue(error, file, 'http.hashthread', 'expected true, false or "auto"');
    }
    for (const kept of [true, false, 'auto']) {
      const cwd = await workdir({ 'config.yml': `storage: inmemory\nhttp:\n  hashthread: ${kept}\n` });
      expect((await loadConfig({ cwd, configFile: 'config.yml', env: {} })).http.hashthread).toBe(kept);
    }
    const absent = await workdir({ 'config.yml': 'storage: inmemory\n' });
    expect((await loadConfig({ cwd: absent, configFile: 'config.yml', env: {} })).http.hashthread).toBeUndefined();
    // from the environment: a boolean where the text is one, the word where the pattern allows it
    for (const [text, kept] of [['true', true], ['FALSE', false], ['auto', 'auto']] as const) {
      expect((await loadConfig({ cwd: absent, configFile: 'config.yml', env: { REGISTRY_HTTP_HASHTHREAD: text } })).http.hashthread).toBe(kept);
    }
  });

  it('storage.maintenance.catalog.interval that is neither a duration nor 0 is refused; 0, a duration and the default are kept', async () => {
    for (const bad of ['soon', '-1m', '5', 'true', '"10 minutes"']) {
      const { error, file } = await errorFor('config.yml', `storage:\n  inmemory: {}\n  maintenance:\n    catalog:\n      interval: ${bad}\n`);
      expectIssue(error, file, 'storage.maintenance.catalog.interval', 'expected a duration such as 10m, or 0 to turn the reconcile off');
    }
    const typo = await errorFor('config.yml', 'storage:\n  inmemory: {}\n  maintenance:\n    catalog:\n      intervall: 1m\n');
    expectIssue(typo.error, typo.file, 'storage.maintenance.catalog.intervall', 'unknown key');
    for (const [text, kept] of [['0', 0], ['"0"', '0'], ['90s', '90s'], ['1h30m', '1h30m']] as const) {
      const cwd = await workdir({ 'config.yml': `storage:\n  inmemory: {}\n  maintenance:\n    catalog:\n      interval: ${text}\n` });
      expect((await loadConfig({ cwd, configFile: 'config.yml', env: {} })).storage.maintenance.catalog.interval).toBe(kept);
    }
    const defaults = await workdir({ 'config.yml': 'storage: inmemory\n' });
    expect((await loadConfig({ cwd: defaults, configFile: 'config.yml', env: {} })).storage.maintenance.catalog.interval).toBe('10m');
  });

  it('http.addr given as a number, as "host:port" without port, or with a port out of range', async () => {
    const number = await errorFor('config.yml', 'storage: inmemory\nhttp:\n  addr: 5000\n');
    expectIssue(number.error, number.file, 'http.addr', 'expected "host:port"', 'got 5000');
    expect(number.error.message).toContain(`${number.file}: http.addr: expected "host:port"`);

    const noPort = await errorFor('config.yml', 'storage: inmemory\nhttp:\n  addr: localhost\n');
    expectIssue(noPort.error, noPort.file, 'http.addr', 'expected "host:port"', 'got "localhost"');

    const range = await errorFor('config.yml', 'storage: inmemory\nhttp:\n  addr: "localhost:70000"\n');
    expectIssue(range.error, range.file, 'http.addr', 'expected "host:port"', 'got "localhost:70000"');
  });

  it('wrong types everywhere, all reported at once', async () => {
    const { error, file } = await errorFor(
      'stowage.yml',
      [
        'version: 2',
        'log:',
        '  level: loud',
        'http:',
        '  addr: ":5000"',
        '  prefix: registry',
        '  headers:',
        '    X-Frame-Options: 1',
        'storage:',
        '  filesystem: /var/lib/registry',
        '  delete:',
        '    enabled: "yes"',
        '  maintenance:',
        '    uploadpurging:',
        '      age: a week',
        'plugins:',
        '  paths: [./a, 3]',
        'stroage: typo',
        '',
      ].join('\n'),
    );
    expectIssue(error, file, 'version', 'expected "0.1"', 'got 2');
    expectIssue(error, file, 'log.level', 'expected one of', 'got "loud"');
    expectIssue(error, file, 'http.prefix', 'expected a path starting with "/"', 'got "registry"');
    expectIssue(error, file, 'http.headers.X-Frame-Options', 'expected a header value or a list of values', 'got 1');
    expectIssue(error, file, 'storage.filesystem', "expected the driver's options as a mapping", 'got "/var/lib/registry"');
    expectIssue(error, file, 'storage.delete.enabled', 'expected a boolean (true or false)', 'got "yes"');
    expectIssue(error, file, 'storage.maintenance.uploadpurging.age', 'expected a duration such as 24h', 'got "a week"');
    expectIssue(error, file, 'plugins.paths[1]', 'expected a folder path', 'got 3');
    expectIssue(error, file, 'stroage', 'unknown key (did you mean "storage"?); expected one of: version, loglevel, log, http, storage, plugins');
    expect(error.issues).toHaveLength(9);
  });

  it('the storage section as a number, and a driver name that no plugin could have', async () => {
    const number = await errorFor('config.yml', 'storage: 5\n');
    expectIssue(number.error, number.file, 'storage', 'expected a driver name (storage: filesystem) or a mapping', 'got 5');
    const name = await errorFor('config.yml', 'storage:\n  My Driver: {}\n');
    expectIssue(name.error, name.file, 'storage.My Driver', 'expected a driver name', 'got "My Driver"');
    expect(name.error.issues).toHaveLength(1);
  });

  it('a YAML syntax error, with line and column', async () => {
    const { error, file } = await errorFor('config.yml', 'storage:\n  filesystem:\n    rootdirectory: [/var/lib/registry\nhttp:\n  addr: ":5000"\n');
    const issue = expectIssue(error, file, '', 'YAML syntax error at ');
    expect(issue.message).toMatch(/^YAML syntax error at \d+:\d+: \S/);
  });

  it('a duplicate key in a YAML file, with line and column', async () => {
    const { error, file } = await errorFor('config.yml', 'storage: inmemory\nhttp:\n  addr: ":5000"\n  addr: ":6000"\n');
    expectIssue(error, file, '', 'YAML syntax error at 4:3', 'unique');
  });

  it('a JSON syntax error, with line and column and without quoting the file', async () => {
    const { error, file } = await errorFor('stowage.json', '{\n  "storage": "inmemory",\n  "http": {"secret": "hunter2" "addr": ":5000"}\n}\n');
    const issue = expectIssue(error, file, '', 'JSON syntax error at 3:');
    expect(issue.message).not.toContain('hunter2');
  });

  it('an unknown docker-registry flavor lists the flavors present', async () => {
    const { error, file } = await errorFor('config.yml', 'common: &c\n  loglevel: info\ndev:\n  <<: *c\n  storage: local\nprod:\n  <<: *c\n  storage: s3\n', {
      SETTINGS_FLAVOR: 'staging',
    });
    expectIssue(error, file, 'staging', 'expected a flavor section "staging" (SETTINGS_FLAVOR); flavors in this file: common, dev, prod');
  });

  it('never shows the value of a key that looks secret', async () => {
    const { error, file } = await errorFor('config.yml', 'storage: inmemory\nhttp:\n  secret: 123456789\n');
    expectIssue(error, file, 'http.secret', 'expected a string', '(value hidden)');
    expect(error.message).not.toContain('123456789');
  });

  it('ConfigError lists every issue as "<file>: <path>: <what was expected>"', async () => {
    const { error, file } = await errorFor('config.yml', 'storage: 5\nhttp:\n  addr: 5000\n');
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    expect(error.message.split('\n')).toEqual([
      'invalid configuration (2 problems):',
      `  ${file}: http.addr: expected "host:port" (e.g. 127.0.0.1:5000, or :5000 for every interface), got 5000`,
      `  ${file}: storage: expected a driver name (storage: filesystem) or a mapping with exactly one driver (storage: {filesystem: {rootdirectory: ...}}), got 5`,
    ]);
  });
});
