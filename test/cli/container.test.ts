import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStowageContainer } from '../../src/container.js';
import { createLogger, SecretRedactor } from '../../src/logger.js';
import { createStorageDriver, preparePlugin } from '../../src/plugins/index.js';
import { CONFIG, HTTP_SERVER, LOGGER, REGISTRY, STORAGE_DRIVER } from '../../src/tokens.js';
import { configFrom, LOCAL_PLUGINS, tempDir } from '../plugins/helpers.js';

describe('the tsyringe container', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    work = await tempDir('container');
  });
  afterAll(() => work.remove());

  it('wires config, logger, the loaded driver, one registry and one HTTP server behind explicit tokens', async () => {
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./data }\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const logger = createLogger({ level: 'silent' });
    const driver = await createStorageDriver(await preparePlugin(config), logger, config.baseDir);
    const container = createStowageContainer({ config, logger, redactor: new SecretRedactor(), driver });
    expect(container.resolve(CONFIG)).toBe(config);
    expect(container.resolve(LOGGER)).toBe(logger);
    expect(container.resolve(STORAGE_DRIVER)).toBe(driver);
    expect(container.resolve(REGISTRY)).toBe(container.resolve(REGISTRY));
    const server = container.resolve(HTTP_SERVER);
    expect(container.resolve(HTTP_SERVER)).toBe(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      expect(res.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps two stowage instances apart', async () => {
    const config = await configFrom(work.dir, `storage:\n  notes: { rootdirectory: ./data }\nplugins:\n  paths: [${JSON.stringify(LOCAL_PLUGINS)}]\n`);
    const logger = createLogger({ level: 'silent' });
    const plugin = await preparePlugin(config);
    const one = createStowageContainer({ config, logger, redactor: new SecretRedactor(), driver: await createStorageDriver(plugin, logger, work.dir) });
    const two = createStowageContainer({ config, logger, redactor: new SecretRedactor(), driver: await createStorageDriver(plugin, logger, work.dir) });
    expect(one.resolve(STORAGE_DRIVER)).not.toBe(two.resolve(STORAGE_DRIVER));
    expect(one.resolve(HTTP_SERVER)).not.toBe(two.resolve(HTTP_SERVER));
  });
});
