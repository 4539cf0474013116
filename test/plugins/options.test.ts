import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparePlugin, type PluginError } from '../../src/plugins/index.js';
import { configFrom, LOCAL_PLUGINS, tempDir } from './helpers.js';

async function failure(promise: Promise<unknown>): Promise<PluginError> {
  try {
    await promise;
  } catch (err) {
    return err as PluginError;
  }
  throw new Error('expected the promise to reject');
}

const pluginsPaths = `plugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`;

describe('plugin options, validated against the plugin schema', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('options');
  });
  afterAll(() => work.remove());

  it('reports every problem at once, each with the file and the path inside it, never showing a secret', async () => {
    const secret = 'tiny-s';
    const config = await configFrom(
      work.dir,
      `storage:\n  notes:\n    rootdirectory: 5\n    token: ${secret}\n    bogus: 1\n    mode: weird\n${pluginsPaths}`,
    );
    const file = path.join(work.dir, 'stowage.config.yaml');
    const err = await failure(preparePlugin(config));
    expect(err.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(err.message).toContain('invalid options for storage driver notes (4 problems)');
    expect(err.message).toContain(`${file}: storage.notes.rootdirectory: must be a string, got 5`);
    expect(err.message).toContain(`${file}: storage.notes.token: must NOT have fewer than 8 characters`);
    expect(err.message).toContain(`${file}: storage.notes.bogus: is not an option of the notes storage driver (options: rootdirectory, token, depth, mode, endpoint)`);
    expect(err.message).toContain(`${file}: storage.notes.mode: must be one of "plain", "fancy", got "weird"`);
    expect(err.message).not.toContain(secret);
    expect(err.details.issues).toHaveLength(4);
  });

  it('an option schema may state in words what it expects (x-expected)', async () => {
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./d, endpoint: nowhere }\n${pluginsPaths}`);
    const err = await failure(preparePlugin(config));
    expect(err.message).toContain(`${path.join(work.dir, 'stowage.config.yaml')}: storage.notes.endpoint: must be host:port, e.g. 127.0.0.1:1025, got "nowhere"`);
  });

  it('a required option that is missing is named with its path', async () => {
    const config = await configFrom(work.dir, `storage:\n  notes: { depth: 3 }\n${pluginsPaths}`);
    const err = await failure(preparePlugin(config));
    expect(err.message).toContain(`${path.join(work.dir, 'stowage.config.yaml')}: storage.notes.rootdirectory: is required (in a docker-registry config: notes_path)`);
  });

  it('an option set by a REGISTRY_STORAGE_* variable is cited by that variable', async () => {
    const file = path.join(work.dir, 'env.yaml');
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./d }\n${pluginsPaths}`, 'env.yaml', {
      REGISTRY_STORAGE_NOTES_DEPTH: 'deep',
    });
    const err = await failure(preparePlugin(config));
    expect(err.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(err.message).toContain('REGISTRY_STORAGE_NOTES_DEPTH');
    expect(err.message).not.toContain(`${file}: storage.notes.depth`);
  });
});

describe('docker-registry seed keys, mapped through the manifest legacyOptions', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('legacy');
  });
  afterAll(() => work.remove());

  const seedConfig = (keys: string) =>
    `common: &common\n  loglevel: info\nprod:\n  <<: *common\n  storage: notes\n${keys}`;

  it('maps seed keys onto options', async () => {
    const config = await configFrom(work.dir, seedConfig('  notes_path: ./seed-data\n  notes_token: a-long-seed-token\n'), 'config.yml', {
      SETTINGS_FLAVOR: 'prod',
      ...pluginsEnv(),
    });
    const plugin = await preparePlugin(config);
    expect(plugin.options).toEqual({ rootdirectory: './seed-data', token: 'a-long-seed-token', depth: 2, mode: 'plain' });
    expect(JSON.stringify(plugin.maskedOptions)).not.toContain('a-long-seed-token');
  });

  it('a required option missing from a docker-registry flavor is named by its seed key', async () => {
    const config = await configFrom(work.dir, seedConfig('  notes_depth: 3\n'), 'config.yml', { SETTINGS_FLAVOR: 'prod', ...pluginsEnv() });
    const err = await failure(preparePlugin(config));
    expect(err.message).toContain(`${path.join(work.dir, 'config.yml')}: prod.notes_path: is required`);
  });

  it('rejects a seed key the plugin does not know, citing its path; errors on mapped options cite the seed key', async () => {
    const config = await configFrom(work.dir, seedConfig('  notes_path: ./seed-data\n  notes_bogus: 1\n  notes_depth: zero\n'), 'config.yml', {
      SETTINGS_FLAVOR: 'prod',
      ...pluginsEnv(),
    });
    const file = path.join(work.dir, 'config.yml');
    const err = await failure(preparePlugin(config));
    expect(err.code).toBe('PLUGIN_OPTIONS_INVALID');
    expect(err.message).toContain(`${file}: prod.notes_bogus: is not a setting of the notes storage driver (its settings: notes_path, notes_token, notes_depth)`);
    expect(err.message).toContain(`${file}: prod.notes_depth: must be an integer, got "zero"`);
  });
});

/** a docker-registry config has no plugins section: point stowage at the fixture folder through the environment */
function pluginsEnv(): NodeJS.ProcessEnv {
  return { REGISTRY_PLUGINS_PATHS: JSON.stringify([LOCAL_PLUGINS]) };
}
