/**
 * stowage as an operator gets it: `npm pack`ed and `npm install`ed into an empty project, run with `npx stowage`.
 * This is what proves the published shape: `files` ships everything the CLI and the built-in plugins need at
 * run time, and every built-in plugin loads from inside node_modules.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../plugins/helpers.js';
import { ensureBuilt, ROOT, runCli, serveCli } from './helpers.js';

const run = promisify(execFile);
const BUILT_IN = ['alioss', 'elliptics', 'filesystem', 'inmemory', 's3', 'swift', 'ufile'];

describe('stowage installed from its npm package', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let project: string;
  let installed: string;
  let bin: string;

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('package');
    // scripts off: the build is there already (ensureBuilt), and a concurrent rebuild would race other test files
    const { stdout } = await run('npm', ['pack', ROOT, '--pack-destination', work.dir, '--ignore-scripts', '--silent'], { cwd: work.dir, timeout: 120_000 });
    const tarball = path.join(work.dir, stdout.trim().split('\n').at(-1)!);
    project = path.join(work.dir, 'project');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'operator-project', private: true }));
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--omit=dev'], { cwd: project, timeout: 300_000 });
    installed = path.join(project, 'node_modules', 'stowage');
    bin = path.join(project, 'node_modules', '.bin', 'stowage');
  }, 400_000);
  afterAll(() => work?.remove());

  it('puts the stowage command on the path, with --help', async () => {
    expect(existsSync(bin)).toBe(true);
    const { stdout } = await run('npx', ['--no-install', 'stowage', '--help'], { cwd: project });
    for (const command of ['serve', 'config', 'plugins']) expect(stdout).toContain(command);
  });

  it('lists every built-in plugin from inside the installed package', async () => {
    const result = await runCli(['plugins', 'list', '--json'], { cwd: project, bin });
    expect(result.code).toBe(0);
    const listed = JSON.parse(result.stdout) as { name: string; source: string; location: string }[];
    for (const name of BUILT_IN) {
      const plugin = listed.find((p) => p.name === name);
      expect(plugin, name).toMatchObject({ source: 'built-in' });
      expect(plugin!.location.startsWith(installed), plugin!.location).toBe(true);
    }
  });

  it('loads every built-in plugin entry with its run-time dependencies resolved inside node_modules', async () => {
    for (const name of BUILT_IN) {
      const entry = path.join(installed, 'plugins', name, 'dist', 'index.js');
      const loaded = (await import(pathToFileURL(entry).href)) as { createDriver?: unknown; default?: unknown };
      expect(typeof (loaded.createDriver ?? loaded.default), name).toBe('function');
    }
  });

  it('checks a config naming a built-in cloud driver, and serves on the filesystem default', async () => {
    await writeFile(
      path.join(project, 'ufile.yaml'),
      'storage:\n  ufile:\n    baseurl: http://my-bucket.cn-bj.ufileos.com\n    publickey: pub\n    privatekey: never-shown-4711\n',
    );
    const check = await runCli(['config', 'check', '--config', 'ufile.yaml'], { cwd: project, bin });
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`plugin: built-in plugin stowage-driver-ufile@`);
    expect(check.stdout).toContain(path.join(installed, 'plugins', 'ufile'));
    expect(check.stdout).not.toContain('never-shown-4711');

    await writeFile(path.join(project, 'stowage.config.yaml'), 'http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ./data\n');
    const serving = await serveCli([], { cwd: project, bin });
    try {
      expect((await fetch(`${serving.url}/v2/`)).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });
});
