/**
 * stowage as an operator gets it: `npm pack`ed and `npm install`ed into an empty project, run with `npx stowage`,
 * and installed globally (`npm install -g`, into a temporary prefix) so that `stowage` is on the PATH.
 * This is what proves the published shape: `files` ships everything the CLI and the built-in plugins need at
 * run time, and every built-in plugin loads from inside node_modules. However stowage is started (the global
 * command, `npx stowage serve`, `npm start`), SIGTERM to what was started ends every process it started.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../plugins/helpers.js';
import { isGone, processTree, waitUntilGone } from '../support/process-tree.js';
import { ensureBuilt, ROOT, runCli, serveCli } from './helpers.js';

const run = promisify(execFile);
const BUILT_IN = ['alioss', 'elliptics', 'filesystem', 'inmemory', 's3', 'swift', 'ufile'];

describe('stowage installed from its npm package', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let project: string;
  let installed: string;
  let bin: string;
  let globalPrefix: string;
  let tarball: string;

  beforeAll(async () => {
    await ensureBuilt();
    // what `npm run build` records (and `npm pack` runs it): the commit, for --version
    await run(process.execPath, [path.join(ROOT, 'scripts', 'build-info.mjs')], { cwd: ROOT });
    work = await tempDir('package');
    // scripts off: the build is there already (ensureBuilt), and a concurrent rebuild would race other test files
    const { stdout } = await run('npm', ['pack', ROOT, '--pack-destination', work.dir, '--ignore-scripts', '--silent'], { cwd: work.dir, timeout: 120_000 });
    tarball = path.join(work.dir, stdout.trim().split('\n').at(-1)!);
    project = path.join(work.dir, 'project');
    await mkdir(project);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'operator-project', private: true }));
    // better-sqlite3 (the SQLite search index) compiles here when its prebuilt binary cannot be fetched: minutes
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--omit=dev'], { cwd: project, timeout: 600_000 });
    installed = path.join(project, 'node_modules', 'stowage');
    bin = path.join(project, 'node_modules', '.bin', 'stowage');
    globalPrefix = path.join(work.dir, 'global');
    // without the optional native module: the global command must serve all the same (search index in memory)
    await run('npm', ['install', '--global', '--prefix', globalPrefix, tarball, '--no-audit', '--no-fund', '--omit=optional'], { cwd: work.dir, timeout: 300_000 });
    await writeFile(path.join(project, 'stowage.config.yaml'), 'http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ./data\n');
  }, 900_000);
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

    const serving = await serveCli([], { cwd: project, bin });
    try {
      expect((await fetch(`${serving.url}/v2/`)).status).toBe(200);
    } finally {
      await serving.stop();
    }
  });

  it('installed globally, puts stowage on the PATH, which names the version and the commit it was built from', async () => {
    const onPath = { ...process.env, PATH: `${path.join(globalPrefix, 'bin')}:${process.env.PATH ?? ''}` };
    const { stdout: which } = await run('sh', ['-c', 'command -v stowage'], { env: onPath });
    expect(which.trim()).toBe(path.join(globalPrefix, 'bin', 'stowage'));
    const { stdout: version } = await run('stowage', ['--version'], { env: onPath, cwd: work.dir });
    const { stdout: head } = await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT });
    const { version: packageVersion } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version).toContain(`${packageVersion} (commit ${head.trim()}`);
  });

  it('the global command serves, and SIGTERM to it ends it', async () => {
    const onPath = { ...process.env, PATH: `${path.join(globalPrefix, 'bin')}:${process.env.PATH ?? ''}` };
    await expectServesAndStops('stowage', ['serve'], { cwd: project, env: onPath });
  });

  it('`npx stowage serve` serves, and SIGTERM to npx ends npx, its shell and the server', async () => {
    await expectServesAndStops('npx', ['--no-install', 'stowage', 'serve'], { cwd: project, env: process.env });
  });

  it('`npm start` in the checkout serves, and SIGTERM to npm ends npm, its shell and the server', async () => {
    const config = path.join(work.dir, 'npm-start.yaml');
    await writeFile(config, 'http:\n  addr: 127.0.0.1:0\nstorage: inmemory\n');
    await expectServesAndStops('npm', ['start', '--silent'], { cwd: ROOT, env: { ...process.env, REGISTRY_CONFIGURATION_PATH: config } });
  });
});

const LISTENING = /stowage listening on (http:\/\/\S+)/;

/** Starts `command`, waits for stowage to listen and answer, SIGTERMs the started process, and waits for its whole tree to end. */
async function expectServesAndStops(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<void> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tree: number[] = [];
  let output = '';
  const outputClosed = new Promise<void>((resolve) => child.stdout.on('close', () => resolve()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const match = LISTENING.exec(output);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`${command} exited with ${code} before listening:\n${output}`)));
    });
    expect((await fetch(`${url}/v2/`)).status).toBe(200);
    tree = processTree(child.pid!);
    // the launcher and, below it, at least the node process serving
    expect(tree.length).toBeGreaterThanOrEqual(1);
    child.kill('SIGTERM');
    await waitUntilGone(tree);
    await outputClosed;
    expect(output).toContain('stowage stopped');
  } finally {
    // a failed test leaves nothing running
    for (const pid of [child.pid!, ...tree].filter((p) => !isGone(p))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
