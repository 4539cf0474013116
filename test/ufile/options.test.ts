/** The ufile options: every seed option in both spellings, with the seed's defaults. */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { resolveOptions, UFileOptionError } from '../../plugins/ufile/src/options.js';

const pluginDir = new URL('../../plugins/ufile/', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as { properties: Record<string, { writeOnly?: boolean }> };
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as {
  stowage: { legacyOptions: Record<string, string>; schema: string; name: string; apiVersion: number; type: string };
};

function validate(options: unknown): { ok: boolean; errors: string[]; value: Record<string, unknown> } {
  const check = new Ajv2020({ allErrors: true, useDefaults: true, strict: false }).compile(schema);
  const value = structuredClone(options) as Record<string, unknown>;
  const ok = check(value);
  return { ok, errors: (check.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`), value };
}

/** What the loader does with a docker-registry config's flat keys. */
const fromSeed = (flat: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(flat).map(([key, value]) => [manifest.stowage.legacyOptions[key] ?? key, value]));

describe('ufile options', () => {
  it('maps every seed option of docker-registry-driver-ufile onto an option of the schema', () => {
    // storage_path is docker-registry's own key, often set in `common` and so inherited by every flavor
    const seedKeys = ['ufile_baseurl', 'ufile_public_key', 'ufile_private_key', 'ufile_retries', 'ufile_retry_interval', 'ufile_timeout', 'storage_path'];
    expect(Object.keys(manifest.stowage.legacyOptions).sort()).toEqual([...seedKeys].sort());
    for (const key of seedKeys) expect(Object.keys(schema.properties)).toContain(manifest.stowage.legacyOptions[key]);
    expect(manifest.stowage).toMatchObject({ type: 'storage', name: 'ufile', apiVersion: 2, schema: './schema.json' });
  });

  it('accepts the seed README example and fills in the seed defaults (3 retries, 1 s interval, 60 s timeout)', () => {
    const { ok, value } = validate(fromSeed({
      ufile_baseurl: 'http://your-bucket.ufile.ucloud.cn', ufile_public_key: 'your-ucloud-public-key', ufile_private_key: 'your-ucloud-private-key',
    }));
    expect(ok).toBe(true);
    expect(value).toMatchObject({ retries: 3, retryinterval: 1, timeout: 60, rootdirectory: '' });
    expect(resolveOptions(value as never)).toMatchObject({
      origin: 'http://your-bucket.ufile.ucloud.cn', bucket: 'your-bucket', retries: 3, retryIntervalMs: 1000, timeoutMs: 60_000,
    });
  });

  it('takes string values from _env: substitutions in the seed config', () => {
    const { ok, value } = validate(fromSeed({
      ufile_baseurl: 'http://b.cn-bj.ufileos.com', ufile_public_key: 'p', ufile_private_key: 'k', ufile_retries: '5', ufile_retry_interval: '0.5', ufile_timeout: '120',
    }));
    expect(ok).toBe(true);
    expect(resolveOptions(value as never)).toMatchObject({ retries: 5, retryIntervalMs: 500, timeoutMs: 120_000 });
  });

  it('takes stowage spellings, with the private key marked secret', () => {
    expect(validate({ baseurl: 'https://b.cn-bj.ufileos.com', publickey: 'p', privatekey: 'k', retries: 0, retryinterval: 2, timeout: 5, rootdirectory: '/registry' }).ok).toBe(true);
    expect(schema.properties.privatekey!.writeOnly).toBe(true);
    expect(schema.properties.publickey!.writeOnly).toBeUndefined();
  });

  it('refuses a missing key, a baseurl without scheme and unknown options', () => {
    expect(validate({ baseurl: 'http://b.ufile.ucloud.cn', publickey: 'p' }).errors).toContain(' required');
    expect(validate({ baseurl: 'b.ufile.ucloud.cn', publickey: 'p', privatekey: 'k' }).errors).toContain('/baseurl pattern');
    expect(validate({ baseurl: 'http://b.ufile.ucloud.cn', publickey: 'p', privatekey: 'k', ufile_timeout: 3 }).errors).toContain(' additionalProperties');
    expect(() => resolveOptions({ baseurl: 'http://10.0.0.1', publickey: 'p', privatekey: 'k' })).toThrow(UFileOptionError);
  });
});
