import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver as createInMemory } from '../../plugins/inmemory/src/index.js';
import { createStorageDriver, preparePlugin } from '../../src/plugins/index.js';
import type { StorageDriver, StorageDriverV1 } from '../../src/storage/driver.js';
import { adaptV1Driver } from '../../src/storage/v1-adapter.js';
import { createDriverContext } from '../../src/testing/index.js';
import { ensureBuilt, runCli } from '../cli/helpers.js';
import { BROKEN_PLUGINS, configFrom, tempDir } from './helpers.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

describe('a loaded driver is checked before the first request', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('driver-shape');
  });
  afterAll(() => work.remove());

  const load = async (name: string) => {
    const config = await configFrom(work.dir, `storage:\n  ${name}: {}\nplugins:\n  paths: [${JSON.stringify(BROKEN_PLUGINS)}]\n`);
    return createStorageDriver(await preparePlugin(config), silent, config.baseDir);
  };

  it('refuses a factory that returns {}, naming the plugin, its folder and every missing method', async () => {
    const err = (await load('emptydriver').then(
      () => undefined,
      (e: unknown) => e,
    )) as { code: string; message: string };
    expect(err.code).toBe('PLUGIN_INVALID');
    expect(err.message).toContain(`plugin emptydriver at ${path.join(BROKEN_PLUGINS, 'emptydriver')}: its factory returned a driver without`);
    for (const method of ['getContent', 'putContent', 'reader', 'writer', 'uploadSize', 'stat', 'list', 'move', 'delete']) {
      expect(err.message).toContain(method);
    }
  });

  it('refuses a plugin that declares driver API 2 without uploadSize', async () => {
    await expect(load('v2nouploadsize')).rejects.toMatchObject({
      code: 'PLUGIN_INVALID',
      message: expect.stringMatching(/plugin v2nouploadsize at .*: its factory returned a driver without uploadSize \(required by driver API 2/),
    });
  });

  it('stowage serve exits 1 at startup, before listening, when the driver has the wrong shape', async () => {
    const file = path.join(work.dir, 'empty.yaml');
    await writeFile(file, `http:\n  addr: 127.0.0.1:0\nstorage: emptydriver\nplugins:\n  paths: [${JSON.stringify(BROKEN_PLUGINS)}]\n`);
    const result = await runCli(['serve', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('listening');
    expect(result.stderr).toContain('plugin emptydriver at');
    expect(result.stderr).toContain('uploadSize');
  });
});

describe('a version-1 driver runs under contract version 2', () => {
  /** the inmemory driver as a version-1 plugin would have written it: no uploadSize */
  function v1Driver(): StorageDriverV1 {
    const v2 = createInMemory({}, createDriverContext('inmemory')) as StorageDriver;
    return {
      name: v2.name,
      getContent: (p) => v2.getContent(p),
      putContent: (p, c) => v2.putContent(p, c),
      reader: (p, o) => v2.reader(p, o),
      writer: (p, a) => v2.writer(p, a),
      stat: (p) => v2.stat(p),
      list: (p) => v2.list(p),
      move: (s, d) => v2.move(s, d),
      delete: (p) => v2.delete(p),
    };
  }

  it('answers uploadSize through the adapter from an appending writer', async () => {
    const driver = adaptV1Driver(v1Driver());
    const writer = await driver.writer('/upload/data', false);
    await writer.write(new Uint8Array(1234));
    await writer.close();
    await expect(driver.uploadSize('/upload/data')).resolves.toBe(1234);
    await expect(driver.getContent('/upload/data')).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  it('leaves a version-2 driver as it is', () => {
    const v2 = createInMemory({}, createDriverContext('inmemory')) as StorageDriver;
    expect(adaptV1Driver(v2)).toBe(v2);
  });
});
