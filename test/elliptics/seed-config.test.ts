/**
 * A docker-registry config.yml written for the seed elliptics driver runs stowage's Elliptics driver
 * unchanged: config loader -> storage.legacy -> the manifest's legacyOptions -> the options schema -> the
 * driver, against emulated nodes.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type EllipticsOptions, createDriver } from '../../plugins/elliptics/src/index.js';
import { keyId } from '../../plugins/elliptics/src/protocol/ids.js';
import { EmulatorCluster } from './emulator.js';
import { testContext } from './context.js';

const pluginDir = new URL('../../plugins/elliptics/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as { stowage: { legacyOptions: Record<string, string> } };
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as object;

/** The seed README's example, with the nodes taken from the environment as docker-registry configs do. */
const SEED_CONFIG = `
common: &common
  loglevel: info

prod:
  <<: *common
  storage: elliptics
  elliptics_nodes: _env:ELLIPTICS_NODES
  elliptics_wait_timeout: _env:ELLIPTICS_WAIT:60
  elliptics_check_timeout: 60
  elliptics_io_thread_num: 2
  elliptics_net_thread_num: 2
  elliptics_nonblocking_io_thread_num: 2
  elliptics_groups: [1, 2, 3]
  elliptics_verbosity: 4
  elliptics_logfile: "elliptics.log"
  elliptics_loglevel: debug
`;

/** The seed README's node list, kept as written: its third entry is the README's placeholder. */
const SEED_README_NODES = `
storage: elliptics
elliptics_nodes: [
      "elliptics-host1:1025:2",
      "elliptics-host2:1025:10",
      "host:port:af" ]
`;

function seedOptions(legacy: Record<string, { value: unknown }> | undefined): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, { value }] of Object.entries(legacy ?? {})) options[manifest.stowage.legacyOptions[key] ?? key] = value;
  return options;
}

let cluster: EmulatorCluster;
let cwd: string;
beforeAll(async () => {
  cluster = await new EmulatorCluster([{ groups: [1, 2, 3] }, { groups: [1, 2, 3] }]).start();
  cwd = await mkdtemp(path.join(os.tmpdir(), 'elliptics-seed-'));
  await writeFile(path.join(cwd, 'config.yml'), SEED_CONFIG);
  await writeFile(path.join(cwd, 'readme.yml'), SEED_README_NODES);
});
afterAll(async () => {
  await cluster.stop();
  await rm(cwd, { recursive: true, force: true });
});

describe('a seed elliptics config', () => {
  it('drives stowage\'s Elliptics driver with the seed keys and environment variables', async () => {
    const config = await loadConfig({
      cwd,
      env: { DOCKER_REGISTRY_CONFIG: 'config.yml', SETTINGS_FLAVOR: 'prod', ELLIPTICS_NODES: cluster.remotes.join(' '), ELLIPTICS_WAIT: '5' },
    });
    expect(config.storage.driver).toBe('elliptics');
    const options = seedOptions(config.storage.legacy);
    const validate = new Ajv2020({ useDefaults: true, strict: false }).compile(schema);
    expect(validate(options), JSON.stringify(validate.errors)).toBe(true);
    expect(options).toMatchObject({ nodes: cluster.remotes.join(' '), groups: [1, 2, 3], waittimeout: 5, verbosity: 4, loglevel: 'debug', namespace: 'DOCKER' });

    const driver = await createDriver(options as unknown as EllipticsOptions, { ...testContext(), baseDir: cwd });
    try {
      await driver.putContent('/docker/registry/v2/repositories/x/_layers/link', Buffer.from('sha256:abc'));
      const id = keyId('/docker/registry/v2/repositories/x/_layers/link', 'DOCKER');
      for (const group of [1, 2, 3]) expect(cluster.stored(group, id)?.toString()).toBe('sha256:abc');
      expect(await driver.list('/docker/registry/v2/repositories/x')).toEqual(['/docker/registry/v2/repositories/x/_layers']);
    } finally {
      await driver.close?.();
    }
    // The protocol client's debug log went to elliptics_logfile, relative to the config file.
    expect(readFileSync(path.join(cwd, 'elliptics.log'), 'utf8')).toMatch(/"level":"debug".*elliptics node connected/);
  });

  it('rejects the README\'s placeholder remote with the item and the expected form', async () => {
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'readme.yml' } });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    expect(validate(seedOptions(config.storage.legacy))).toBe(false);
    expect(validate.errors?.map((e) => `${e.instancePath} ${e.keyword}`)).toEqual(['/nodes/2 pattern']);
  });
});
