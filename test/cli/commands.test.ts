import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN_PLUGINS, FIXTURES, LOCAL_PLUGINS, tempDir } from '../plugins/helpers.js';
import { ensureBuilt, ROOT, runCli } from './helpers.js';

const SECRET = 'a-very-secret-token-1234';

describe('stowage config check', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('check');
  });
  afterAll(() => work.remove());

  it('exits 0 with the driver, where its plugin was found and its options, secrets masked', async () => {
    const file = path.join(work.dir, 'good.yaml');
    await writeFile(file, `storage:\n  memo:\n    rootdirectory: ./data\n    token: ${SECRET}\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`configuration OK: ${file}`);
    expect(result.stdout).toContain('storage driver: notes (asked for as memo)');
    expect(result.stdout).toContain(`plugin: local plugin stowage-driver-notes@1.2.3 at ${path.join(LOCAL_PLUGINS, 'notes')}`);
    expect(result.stdout).toContain('rootdirectory: "./data"');
    expect(result.stdout).toContain('depth: 2');
    expect(result.stdout).toContain('token: "********"');
    expect(result.stdout).not.toContain(SECRET);
  });

  it('does not call the driver factory: nothing is created on disk', async () => {
    const file = path.join(work.dir, 'untouched.yaml');
    await writeFile(file, `storage:\n  notes:\n    rootdirectory: ./never-created\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('notes driver ready');
  });

  it('exits 1 with every error, each naming the file, the path inside it and what was expected, secrets never shown', async () => {
    const file = path.join(work.dir, 'bad.yaml');
    await writeFile(file, `storage:\n  notes:\n    rootdirectory: 42\n    token: short\n    colour: blue\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`${file}: storage.notes.rootdirectory: must be a string, got 42`);
    expect(result.stderr).toContain(`${file}: storage.notes.token: must NOT have fewer than 8 characters`);
    expect(result.stderr).toContain(`${file}: storage.notes.colour: is not an option of the notes storage driver`);
    expect(result.stderr).not.toContain('short');
  });

  it('exits 1 on errors in stowage\'s own sections, naming file and path', async () => {
    const file = path.join(work.dir, 'http.yaml');
    await writeFile(file, 'http:\n  addr: [1, 2]\nstorage: inmemory\n');
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}: http.addr:`);
  });

  const seedConfig = path.join(FIXTURES, 'configs', 'docker-registry-ufile.yml');
  const UFILE_SECRET = 'ufile-private-key-from-env';

  it('reads a docker-registry config: seed keys mapped onto the built-in ufile plugin, the private key masked', async () => {
    const result = await runCli(['config', 'check', '--config', seedConfig], {
      cwd: work.dir,
      env: { SETTINGS_FLAVOR: 'prod', UFILE_PRIVATE_KEY: UFILE_SECRET },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(docker-registry format, flavor prod)');
    expect(result.stdout).toContain(`plugin: built-in plugin stowage-driver-ufile@`);
    expect(result.stdout).toContain('baseurl: "http://my-bucket.cn-bj.ufileos.com"');
    expect(result.stdout).toContain('timeout: 30');
    expect(result.stdout).toContain('privatekey: "********"');
    expect(result.stdout).not.toContain(UFILE_SECRET);
  });

  it('in a docker-registry config, errors cite the seed keys: an unknown one and a wrongly typed one', async () => {
    const result = await runCli(['config', 'check', '--config', seedConfig], {
      cwd: work.dir,
      env: { SETTINGS_FLAVOR: 'broken', UFILE_PRIVATE_KEY: UFILE_SECRET },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${seedConfig}: broken.ufile_bogus: is not a setting of the ufile storage driver`);
    expect(result.stderr).toContain(`${seedConfig}: broken.ufile_baseurl: must be an http:// or https:// URL with a host and no path, e.g. http://my-bucket.cn-bj.ufileos.com, got 42`);
    // a pattern is explained in words (the schema's x-expected), not shown as a regular expression
    expect(result.stderr).toContain(`${seedConfig}: broken.ufile_timeout: must be a duration such as 30s, 5m, 1h30m or 250ms, or a bare number of seconds, got "soon"`);
    expect(result.stderr).not.toContain(UFILE_SECRET);
  });

  it("reads docker-registry's own local flavor: storage: local is the filesystem plugin, storage_path its root", async () => {
    const file = path.join(work.dir, 'config.yml');
    await writeFile(file, 'common: &common\n  loglevel: info\nlocal:\n  <<: *common\n  storage: local\n  storage_path: _env:STORAGE_PATH:/tmp/registry\n');
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir, env: { SETTINGS_FLAVOR: 'local', STORAGE_PATH: './registry-data' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(docker-registry format, flavor local)');
    expect(result.stdout).toContain('storage driver: filesystem (asked for as local)');
    expect(result.stdout).toContain('rootdirectory: "./registry-data"');
  });

  it('takes storage_path that a docker-registry flavor inherits from common, as the ufile root directory', async () => {
    const file = path.join(work.dir, 'inherited.yml');
    await writeFile(
      file,
      'common: &common\n  loglevel: info\n  storage_path: _env:STORAGE_PATH:/registry\nufile:\n  <<: *common\n  storage: ufile\n' +
        '  ufile_baseurl: http://your-bucket.ufile.ucloud.cn\n  ufile_public_key: pk\n  ufile_private_key: sk\n',
    );
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir, env: { SETTINGS_FLAVOR: 'ufile' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rootdirectory: "/registry"');
  });

  it('exits 1 naming the plugin problem (API mismatch)', async () => {
    const file = path.join(work.dir, 'api.yaml');
    await writeFile(file, `storage: api99\nplugins:\n  paths: [${JSON.stringify(BROKEN_PLUGINS)}]\n`);
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('implements driver API 99; this stowage implements 2 and loads 1, 2');
  });
});

describe('stowage plugins list', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('list');
  });
  afterAll(() => work.remove());

  it('shows built-in and local plugins with version, source and location', async () => {
    const file = path.join(work.dir, 'stowage.config.yaml');
    await writeFile(file, `storage: notes\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const result = await runCli(['plugins', 'list'], { cwd: work.dir });
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+VERSION\s+SOURCE\s+LOCATION$/);
    expect(lines.find((l) => l.startsWith('notes (memo)'))).toMatch(new RegExp(`^notes \\(memo\\)\\s+1\\.2\\.3\\s+local\\s+${path.join(LOCAL_PLUGINS, 'notes')}$`));
    expect(lines.find((l) => l.startsWith('ufile '))).toMatch(new RegExp(`\\s+built-in\\s+${path.join(ROOT, 'plugins', 'ufile')}$`));
  });

  it('prints JSON with --json', async () => {
    const result = await runCli(['plugins', 'list', '--json'], { cwd: work.dir });
    const listed = JSON.parse(result.stdout) as { name: string; source: string }[];
    expect(listed).toContainEqual(expect.objectContaining({ name: 'notes', source: 'local' }));
  });
});

describe('stowage --help', () => {
  it('each command has its own help', async () => {
    await ensureBuilt();
    for (const [args, text] of [
      [['--help'], 'serve'],
      [['serve', '--help'], '--config <file>'],
      [['config', 'check', '--help'], 'without starting anything'],
      [['plugins', 'list', '--help'], '--json'],
      [['plugins', 'new', '--help'], '--dir <dir>'],
    ] as const) {
      const result = await runCli(args, { cwd: ROOT });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(text);
    }
  });
});
