import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKEN_PLUGINS, tempDir } from '../plugins/helpers.js';
import { ensureBuilt, runCli } from './helpers.js';

describe('stowage plugins verify', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('verify');
  });
  afterAll(() => work.remove());

  const scaffold = async (name: string): Promise<string> => {
    const created = await runCli(['plugins', 'new', name], { cwd: work.dir });
    expect(created.code).toBe(0);
    return path.join(work.dir, `stowage-driver-${name}`);
  };

  it('passes a freshly scaffolded plugin: manifest, schema, entry, driver shape and the conformance kit', async () => {
    const dir = await scaffold('goodstore');
    const result = await runCli(['plugins', 'verify', dir], { cwd: work.dir });
    expect(result.stderr).not.toContain('stowage:');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ok   manifest: stowage-driver-goodstore@0.1.0, storage plugin "goodstore", driver API 2');
    expect(result.stdout).toContain('ok   entry module exports a driver factory');
    expect(result.stdout.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Tests\s+\d+ passed/);
    expect(result.stdout).toContain('ok   plugin goodstore passes the driver conformance kit');
  }, 120_000);

  it('finds a plugin by its package name in the node_modules of the working folder', async () => {
    const dir = await scaffold('namedstore');
    const project = path.join(work.dir, 'project');
    await mkdir(path.join(project, 'node_modules'), { recursive: true });
    await writeFile(path.join(project, 'package.json'), '{"name":"project","private":true}');
    await symlink(dir, path.join(project, 'node_modules', 'stowage-driver-namedstore'));
    const result = await runCli(['plugins', 'verify', 'stowage-driver-namedstore', '--no-kit'], { cwd: project });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('storage plugin "namedstore"');
    expect(result.stdout).not.toContain('conformance kit');
  });

  it('fails, naming the plugin and what is missing, when the factory returns no driver', async () => {
    const result = await runCli(['plugins', 'verify', path.join(BROKEN_PLUGINS, 'emptydriver')], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`plugin emptydriver at ${path.join(BROKEN_PLUGINS, 'emptydriver')}: its factory returned a driver without`);
  });

  it('fails when the manifest is wrong, before importing anything', async () => {
    const result = await runCli(['plugins', 'verify', path.join(BROKEN_PLUGINS, 'badmanifest')], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stowage.colour: is not a manifest field');
  });

  it('fails a plugin that loads but breaks the contract, through the conformance kit', async () => {
    const dir = await scaffold('liarstore');
    const index = path.join(dir, 'index.js');
    // an upload size that ignores what was written: the kit's UploadSize test must catch it
    const source = (await readFile(index, 'utf8')).replace('async uploadSize(path) {', 'async uploadSize(path) {\n    if (path) return 0;');
    await writeFile(index, source);
    const result = await runCli(['plugins', 'verify', dir], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[UploadSize]');
    expect(result.stderr).toContain('plugin liarstore at');
    expect(result.stderr).toContain('fails the driver conformance kit');
  }, 120_000);
});
