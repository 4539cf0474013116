import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import {
  BUILTIN_PLUGINS_DIR,
  createStorageDriver,
  findPlugin,
  listPlugins,
  preparePlugin,
  STOWAGE_ROOT,
  type PluginError,
} from '../../src/plugins/index.js';
import { BROKEN_PLUGINS, configFrom, LOCAL_PLUGINS, tempDir } from './helpers.js';

const silent = createLogger({ level: 'silent' });

async function failure(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (err) {
    return err as PluginError;
  }
  throw new Error('expected the promise to reject');
}

describe('plugin discovery by name', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('discovery');
  });
  afterAll(() => work.remove());

  it('finds a built-in plugin in the stowage package by its manifest name', async () => {
    const found = await findPlugin('ufile', { baseDir: work.dir, localPaths: [] });
    expect(found.source).toBe('built-in');
    expect(found.package.dir).toBe(path.join(BUILTIN_PLUGINS_DIR, 'ufile'));
    expect(found.package.manifest.name).toBe('ufile');
  });

  it('finds a built-in plugin by one of its aliases', async () => {
    const found = await findPlugin('oss', { baseDir: work.dir, localPaths: [] });
    expect(found.source).toBe('built-in');
    expect(found.package.manifest.name).toBe('alioss');
  });

  it('finds a local-folder plugin by folder name and by manifest name or alias', async () => {
    const byFolder = await findPlugin('notes', { baseDir: work.dir, localPaths: [LOCAL_PLUGINS] });
    expect(byFolder).toMatchObject({ source: 'local', package: { dir: path.join(LOCAL_PLUGINS, 'notes') } });
    const byAlias = await findPlugin('memo', { baseDir: work.dir, localPaths: [LOCAL_PLUGINS] });
    expect(byAlias).toMatchObject({ source: 'local', package: { dir: path.join(LOCAL_PLUGINS, 'notes'), manifest: { name: 'notes' } } });
  });

  it('resolves npm packages from the config folder: stowage-driver-<name>, then @stowage/driver-<name>, and scoped names as given', async () => {
    const project = path.join(work.dir, 'npm-project');
    const plain = path.join(project, 'node_modules', 'stowage-driver-cjsmem');
    const scoped = path.join(project, 'node_modules', '@stowage', 'driver-scopedmem');
    const vendor = path.join(project, 'node_modules', '@acme', 'registry-store');
    for (const [dir, name] of [
      [plain, 'cjsmem'],
      [scoped, 'scopedmem'],
      [vendor, 'acme'],
    ] as const) {
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), stowage: { type: 'storage', name, apiVersion: 1 } }));
    }
    const scope = { baseDir: path.join(project, 'config', 'deeper'), localPaths: [] };
    expect(await findPlugin('cjsmem', scope)).toMatchObject({ source: 'npm', package: { dir: plain } });
    expect(await findPlugin('scopedmem', scope)).toMatchObject({ source: 'npm', package: { dir: scoped } });
    expect(await findPlugin('@acme/registry-store', scope)).toMatchObject({ source: 'npm', package: { dir: vendor } });
    expect(await findPlugin('stowage-driver-cjsmem', scope)).toMatchObject({ source: 'npm', package: { dir: plain } });
  });

  it('prefers a built-in plugin over a local folder of the same name (first hit wins)', async () => {
    const shadow = path.join(work.dir, 'shadow');
    await mkdir(path.join(shadow, 'ufile'), { recursive: true });
    await writeFile(path.join(shadow, 'ufile', 'package.json'), JSON.stringify({ name: 'fake', stowage: { type: 'storage', name: 'ufile', apiVersion: 1 } }));
    const found = await findPlugin('ufile', { baseDir: work.dir, localPaths: [shadow] });
    expect(found.source).toBe('built-in');
  });

  it('PLUGIN_NOT_FOUND lists every place searched, in order', async () => {
    const err = await failure(findPlugin('nosuchstore', { baseDir: work.dir, localPaths: [LOCAL_PLUGINS, BROKEN_PLUGINS] }));
    expect(err.code).toBe('PLUGIN_NOT_FOUND');
    expect(err.message).toContain('storage plugin "nosuchstore" was not found');
    const places = err.details.searched ?? [];
    expect(places[0]).toBe(`built-in: ${BUILTIN_PLUGINS_DIR}/*/package.json (manifest name or alias "nosuchstore")`);
    expect(places).toContain(`local: ${path.join(LOCAL_PLUGINS, 'nosuchstore')}`);
    expect(places).toContain(`local: ${BROKEN_PLUGINS}/*/package.json (manifest name "nosuchstore")`);
    const npm = places.filter((p) => p.startsWith('npm: '));
    expect(npm.map((p) => p.split(' ')[2])).toEqual(['stowage-driver-nosuchstore', '@stowage/driver-nosuchstore']);
    expect(npm[0]).toContain(path.join(work.dir, 'node_modules'));
    expect(npm[0]).toContain(path.join(STOWAGE_ROOT, 'node_modules'));
    for (const place of places) expect(err.message).toContain(place);
  });
});

describe('plugin loading errors', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('loading');
  });
  afterAll(() => work.remove());

  const withPlugin = (name: string, options = '{}') =>
    configFrom(work.dir, `storage:\n  ${name}: ${options}\nplugins:\n  paths: [${JSON.stringify(BROKEN_PLUGINS)}]\n`);

  it('PLUGIN_API_MISMATCH names the plugin, its folder, its API version and the ones this stowage loads', async () => {
    const err = await failure(preparePlugin(await withPlugin('api99')));
    expect(err.code).toBe('PLUGIN_API_MISMATCH');
    expect(err.message).toBe(`plugin api99 at ${path.join(BROKEN_PLUGINS, 'api99')} implements driver API 99; this stowage implements 2 and loads 1, 2`);
  });

  it('PLUGIN_INVALID names every manifest field that is wrong', async () => {
    const err = await failure(preparePlugin(await withPlugin('badmanifest')));
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toContain(`plugin badmanifest at ${path.join(BROKEN_PLUGINS, 'badmanifest')} is not a valid stowage plugin`);
    expect(err.message).toContain('stowage.schema: must be string');
    expect(err.message).toContain('stowage.colour: is not a manifest field');
  });

  it('PLUGIN_INVALID says when the entry module exports no factory, and what it does export', async () => {
    const err = await failure(preparePlugin(await withPlugin('noshape')));
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toContain('exports no createDriver function and no default function (it exports: createDriver, version)');
  });

  it('PLUGIN_INVALID says when the entry module does not exist (an unbuilt plugin)', async () => {
    const err = await failure(preparePlugin(await withPlugin('unbuilt')));
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toContain('its entry module ./dist/index.js does not exist (is the plugin built?)');
  });

  it('PLUGIN_DEPENDENCY_MISSING names the missing module and the plugin', async () => {
    const err = await failure(preparePlugin(await withPlugin('needsdep')));
    expect(err.code).toBe('PLUGIN_DEPENDENCY_MISSING');
    expect(err.details.missing).toBe('stowage-fixture-absent-sdk');
    expect(err.message).toContain(`plugin needsdep at ${path.join(BROKEN_PLUGINS, 'needsdep')} cannot be loaded: it imports stowage-fixture-absent-sdk, which is not installed`);
  });

  it('PLUGIN_DEPENDENCY_MISSING works for a CommonJS plugin too', async () => {
    const err = await failure(preparePlugin(await withPlugin('needsdep-cjs')));
    expect(err.code).toBe('PLUGIN_DEPENDENCY_MISSING');
    expect(err.message).toContain('plugin needsdep-cjs at');
    expect(err.message).toContain('it imports @fixture/absent-cjs-sdk, which is not installed');
  });

  it('loads the entry named by the "import" condition of package.json exports, and a default-export factory', async () => {
    const config = await withPlugin('exportsonly');
    const plugin = await preparePlugin(config);
    const driver = await createStorageDriver(plugin, silent, config.baseDir);
    await driver.putContent('/x', new Uint8Array([7]));
    expect([...(await driver.getContent('/x'))]).toEqual([7]);
  });

  it('a plugin folder that is a symlink is found and loaded like any other', async () => {
    const links = path.join(work.dir, 'links');
    await mkdir(links, { recursive: true });
    await symlink(path.join(LOCAL_PLUGINS, 'notes'), path.join(links, 'linked-notes'));
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./d }\nplugins:\n  paths: [./links]\n`);
    const plugin = await preparePlugin(config);
    expect(plugin.source).toBe('local');
    expect(plugin.package.dir).toBe(path.join(links, 'linked-notes'));
  });
});

describe('a local-folder plugin, selected by name', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('local');
  });
  afterAll(() => work.remove());

  it('stores and reads data through the wrapped driver, with defaults applied and relative paths resolved against the config folder', async () => {
    const config = await configFrom(
      work.dir,
      `storage:\n  memo:\n    rootdirectory: ./data\n    token: hunter2-hunter2\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`,
    );
    const plugin = await preparePlugin(config);
    expect(plugin.options).toEqual({ rootdirectory: './data', token: 'hunter2-hunter2', depth: 2, mode: 'plain' });
    expect(plugin.maskedOptions).toEqual({ rootdirectory: './data', token: '********', depth: 2, mode: 'plain' });
    const driver = await createStorageDriver(plugin, silent, config.baseDir);
    await driver.putContent('/docker/registry/v2/hello', new TextEncoder().encode('hello from notes'));
    expect(new TextDecoder().decode(await driver.getContent('/docker/registry/v2/hello'))).toBe('hello from notes');
    expect((await driver.stat('/docker/registry/v2/hello')).size).toBe(16);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(path.join(work.dir, 'data', 'docker', 'registry', 'v2', 'hello'), 'utf8')).toBe('hello from notes');
    await expect(driver.getContent('/absent')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    await expect(driver.getContent('relative/path')).rejects.toMatchObject({ code: 'INVALID_PATH' });
  });

  it('listPlugins shows built-in and local plugins with name, version, source and location', async () => {
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./d }\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const plugins = await listPlugins(config);
    expect(plugins).toContainEqual(expect.objectContaining({ name: 'ufile', source: 'built-in', location: path.join(BUILTIN_PLUGINS_DIR, 'ufile') }));
    expect(plugins).toContainEqual(
      expect.objectContaining({ name: 'notes', aliases: ['memo'], version: '1.2.3', source: 'local', location: path.join(LOCAL_PLUGINS, 'notes'), active: true }),
    );
  });
});
