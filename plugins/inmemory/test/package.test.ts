import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';

const pluginDir = new URL('..', import.meta.url).pathname;

describe('the inmemory plugin package', () => {
  const manifest = JSON.parse(readFileSync(join(pluginDir, 'package.json'), 'utf8'));
  const validate = new Ajv2020({ strict: true }).compile(JSON.parse(readFileSync(join(pluginDir, 'schema.json'), 'utf8')));

  it('declares itself as the storage plugin "inmemory" for driver contract version 2', () => {
    expect(manifest.name).toBe('stowage-driver-inmemory');
    expect(manifest.stowage).toEqual({ type: 'storage', name: 'inmemory', apiVersion: 2, schema: './schema.json' });
  });

  it('takes no options: an empty object is valid, any key is rejected', () => {
    expect(validate({})).toBe(true);
    expect(validate({ rootdirectory: '/tmp' })).toBe(false);
  });
});
