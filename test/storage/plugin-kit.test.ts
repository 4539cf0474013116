import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPluginDriver } from '../../src/testing/index.js';
import { BROKEN_PLUGINS, FIXTURES, LOCAL_PLUGINS } from '../plugins/helpers.js';

describe('stowage/testing builds a plugin driver as stowage serve does', () => {
  it("applies the plugin's schema defaults to the options it is given", async () => {
    const driver = (await loadPluginDriver(path.join(FIXTURES, 'kit', 'defaults'), { options: { retries: 5 } })) as unknown as {
      receivedOptions: Record<string, unknown>;
    };
    expect(driver.receivedOptions).toEqual({ prefix: '/kit', retries: 5 });
  });

  it('refuses options the schema refuses, naming the option', async () => {
    await expect(loadPluginDriver(path.join(LOCAL_PLUGINS, 'notes'), { options: { rootdirectory: './data', colour: 'blue' } })).rejects.toMatchObject({
      code: 'PLUGIN_OPTIONS_INVALID',
      message: expect.stringContaining('colour'),
    });
  });

  it('refuses a driver of the wrong shape, naming the plugin', async () => {
    await expect(loadPluginDriver(path.join(BROKEN_PLUGINS, 'emptydriver'))).rejects.toMatchObject({
      code: 'PLUGIN_INVALID',
      message: expect.stringContaining('plugin emptydriver at'),
    });
  });
});
