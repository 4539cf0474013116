import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createStorageDriver, listPlugins, preparePlugin } from '../../src/plugins/index.js';
import { configFrom, FIXTURES, tempDir } from './helpers.js';

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run('npm', [...args, '--no-audit', '--no-fund'], { cwd, timeout: 180_000 });

describe('a plugin installed as a real npm package into an operator project', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let project: string;

  beforeAll(async () => {
    work = await tempDir('npm');
    const { stdout } = await npm(['pack', path.join(FIXTURES, 'npm-cjs-driver'), '--pack-destination', work.dir], work.dir);
    const tarball = path.join(work.dir, stdout.trim().split('\n').at(-1)!);
    project = path.join(work.dir, 'project');
    await run('mkdir', ['-p', project]);
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'operator-project', private: true }));
    await npm(['install', tarball], project);
  });
  afterAll(() => work.remove());

  it('is selected by its name from stowage.config.yaml, loaded as CommonJS, and stores and reads data', async () => {
    const config = await configFrom(project, 'storage:\n  cjsmem:\n    label: from-npm\n');
    const plugin = await preparePlugin(config);
    expect(plugin.source).toBe('npm');
    expect(plugin.package.dir).toBe(path.join(project, 'node_modules', 'stowage-driver-cjsmem'));
    expect(plugin.package.version).toBe('3.1.4');
    const driver = await createStorageDriver(plugin, createLogger({ level: 'silent' }), config.baseDir);
    await driver.putContent('/a/b', new TextEncoder().encode('installed from a tarball'));
    expect(new TextDecoder().decode(await driver.getContent('/a/b'))).toBe('installed from a tarball');
    expect(await driver.list('/a')).toEqual(['/a/b']);
  });

  it('is found from a config file in a subfolder of the project too (node_modules up the tree)', async () => {
    const sub = path.join(project, 'deploy', 'prod');
    await run('mkdir', ['-p', sub]);
    const config = await configFrom(sub, 'storage: cjsmem\n');
    const plugin = await preparePlugin(config);
    expect(plugin.package.dir).toBe(path.join(project, 'node_modules', 'stowage-driver-cjsmem'));
    expect(plugin.options).toEqual({ label: 'cjsmem' });
  });

  it('is listed by listPlugins as an npm plugin with its version and location', async () => {
    const config = await configFrom(project, 'storage: cjsmem\n');
    expect(await listPlugins(config)).toContainEqual(
      expect.objectContaining({ name: 'cjsmem', version: '3.1.4', source: 'npm', location: path.join(project, 'node_modules', 'stowage-driver-cjsmem') }),
    );
  });
});
