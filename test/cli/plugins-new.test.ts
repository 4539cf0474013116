import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../plugins/helpers.js';
import { ensureBuilt, ROOT, runCli, serveCli } from './helpers.js';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund'], { cwd, timeout: 300_000 });

describe('stowage plugins new', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let scaffold: string;

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('scaffold');
    scaffold = path.join(work.dir, 'stowage-driver-mystore');
    const result = await runCli(['plugins', 'new', 'mystore'], { cwd: work.dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
  afterAll(() => work.remove());

  it('writes a package whose manifest, entry, schema and dependencies make a third-party driver', async () => {
    const pkg = JSON.parse(await readFile(path.join(scaffold, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg['name']).toBe('stowage-driver-mystore');
    expect(pkg['type']).toBe('module');
    expect(pkg['stowage']).toEqual({ type: 'storage', name: 'mystore', apiVersion: 2, schema: './schema.json' });
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    // a version range, not a path into this checkout: the package works wherever it is moved or published
    expect(pkg['devDependencies']).toEqual({ stowage: `^${version}`, vitest: '^3.2.0' });
    expect(JSON.stringify(pkg)).not.toContain('file:');
    expect(pkg['dependencies']).toBeUndefined();
    expect(pkg['peerDependencies']).toBeUndefined();
    const index = await readFile(path.join(scaffold, 'index.js'), 'utf8');
    expect(index.startsWith('// @ts-check')).toBe(true);
    expect(index).toContain("import('stowage').DriverFactory");
    expect(await readFile(path.join(scaffold, 'test', 'conformance.test.js'), 'utf8')).toContain("from 'stowage/testing'");
    expect(await readFile(path.join(scaffold, 'README.md'), 'utf8')).toContain('npx vitest run');
  });

  it('refuses to write into a folder that is not empty', async () => {
    const result = await runCli(['plugins', 'new', 'mystore', '--dir', scaffold], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('already exists and is not empty');
  });

  it.each([
    ['s3', 's3'],
    ['filesystem', 'filesystem'],
    ['oss', 'alioss'],
  ])('refuses %s, a name the built-in %s plugin answers to (it would shadow the new plugin)', async (name, builtin) => {
    const result = await runCli(['plugins', 'new', name, '--dir', path.join(work.dir, `shadow-${name}`)], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`plugin name "${name}" is taken by stowage's built-in ${builtin} plugin`);
  });

  it('refuses a name operators could not write', async () => {
    const result = await runCli(['plugins', 'new', 'My Store'], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not valid');
  });

  it('passes the conformance kit as generated, moved out of the folder it was made in, against stowage installed as a package', async () => {
    // stowage as a driver author gets it before it is on a registry: its packed tarball (what npm publish uploads)
    const { stdout: packed } = await run('npm', ['pack', ROOT, '--pack-destination', work.dir, '--ignore-scripts', '--silent'], { cwd: work.dir, timeout: 120_000 });
    const tarball = path.join(work.dir, packed.trim().split('\n').at(-1)!);
    const moved = path.join(work.dir, 'elsewhere', 'mystore');
    await run('mkdir', ['-p', path.dirname(moved)]);
    await run('cp', ['-r', scaffold, moved]);
    // the kit opens no search index, so better-sqlite3 (optional, loaded only when an SQLite index opens) is
    // left unbuilt: with no prebuilt binary reachable here its install script compiles it for minutes; the
    // package-install test covers stowage with it built
    await npm(['install', '--save-dev', '--ignore-scripts', tarball], moved);
    const installed = JSON.parse(await readFile(path.join(moved, 'node_modules', 'stowage', 'package.json'), 'utf8')) as { name: string };
    expect(installed.name).toBe('stowage');
    const { FORCE_COLOR: _colour, ...env } = process.env;
    // a failing kit makes `npx vitest run` exit non-zero, which rejects here
    const { stdout } = await run('npx', ['vitest', 'run'], { cwd: moved, timeout: 300_000, env: { ...env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/Test Files\s+1 passed/);
    expect(stdout).not.toMatch(/failed/);
  });

  it('installs into an operator project from its folder without fetching stowage, and is then served by name', async () => {
    const project = path.join(work.dir, 'operator');
    await run('mkdir', ['-p', project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'operator', private: true }));
    await npm(['install', scaffold], project);
    const lock = JSON.parse(await readFile(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).filter((p) => p.endsWith('node_modules/stowage'))).toEqual([]);
    await writeFile(path.join(project, 'stowage.config.yaml'), 'http:\n  addr: 127.0.0.1:0\nstorage:\n  mystore:\n    token: operator-secret-42\n');

    const check = await runCli(['config', 'check'], { cwd: project });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`plugin: npm plugin stowage-driver-mystore@0.1.0 at ${path.join(project, 'node_modules', 'stowage-driver-mystore')}`);
    expect(check.stdout).not.toContain('operator-secret-42');

    const serving = await serveCli([], { cwd: project });
    try {
      expect(serving.banner).toContain('(storage: mystore)');
      expect((await fetch(`${serving.url}/v2/`)).status).toBe(200);
      const blob = Buffer.from('a layer stored by a third-party driver');
      const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      const pushed = await fetch(`${serving.url}/v2/demo/app/blobs/uploads/?digest=${digest}`, {
        method: 'POST',
        body: blob,
        headers: { 'Content-Type': 'application/octet-stream' },
      });
      expect(pushed.status).toBe(201);
      const pulled = await fetch(`${serving.url}/v2/demo/app/blobs/${digest}`);
      expect(pulled.status).toBe(200);
      expect(Buffer.from(await pulled.arrayBuffer())).toEqual(blob);
    } finally {
      expect(await serving.stop()).toBe(0);
    }
  });
});
