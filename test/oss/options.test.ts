/** The alioss options: the seed keys, distribution 2.8's oss option names, and what they resolve to. */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { AliOssOptionError, resolveOptions } from '../../plugins/alioss/src/options.js';

const pluginDir = new URL('../../plugins/alioss/', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as { properties: Record<string, { writeOnly?: boolean }> };
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as {
  stowage: { legacyOptions: Record<string, string>; aliases: string[]; name: string; apiVersion: number; type: string };
};

function validate(options: unknown): { ok: boolean; errors: string[]; value: Record<string, unknown> } {
  const check = new Ajv2020({ allErrors: true, useDefaults: true, strict: false }).compile(schema);
  const value = structuredClone(options) as Record<string, unknown>;
  const ok = check(value);
  return { ok, errors: (check.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`), value };
}

const fromSeed = (flat: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(flat).map(([key, value]) => [manifest.stowage.legacyOptions[key] ?? key, value]));

describe('alioss options', () => {
  it('is selectable as alioss and as oss', () => {
    expect(manifest.stowage).toMatchObject({ type: 'storage', name: 'alioss', aliases: ['oss'], apiVersion: 2 });
  });

  it('maps the seed keys of docker-registry-driver-alioss onto options of the schema', () => {
    expect(manifest.stowage.legacyOptions).toEqual({
      oss_bucket: 'bucket', oss_accessid: 'accesskeyid', oss_accesskey: 'accesskeysecret', oss_host: 'endpoint', storage_path: 'rootdirectory',
    });
    for (const option of Object.values(manifest.stowage.legacyOptions)) expect(Object.keys(schema.properties)).toContain(option);
  });

  it('has every option name of distribution 2.8\'s oss driver', () => {
    for (const name of ['accesskeyid', 'accesskeysecret', 'region', 'endpoint', 'internal', 'bucket', 'secure', 'encrypt', 'chunksize', 'rootdirectory']) {
      expect(Object.keys(schema.properties)).toContain(name);
    }
    expect(schema.properties.accesskeysecret!.writeOnly).toBe(true);
  });

  it('accepts the seed README flavor: oss.aliyuncs.com host, /devregistry/ path', () => {
    const { ok, value } = validate(fromSeed({ storage_path: '/devregistry/', oss_bucket: 'docker-registry', oss_accessid: 'id', oss_accesskey: 'key', oss_host: 'oss.aliyuncs.com' }));
    expect(ok).toBe(true);
    expect(resolveOptions(value as never)).toMatchObject({
      bucket: 'docker-registry', endpointHost: 'oss.aliyuncs.com', protocol: 'https:', rootDirectory: 'devregistry', signatureVersion: 'v1',
    });
  });

  it('builds the endpoint from the region, internal and secure as distribution does', () => {
    const base = { accesskeyid: 'id', accesskeysecret: 'key', bucket: 'bkt' };
    expect(resolveOptions({ ...base, region: 'oss-cn-beijing' })).toMatchObject({ endpointHost: 'oss-cn-beijing.aliyuncs.com', protocol: 'https:', chunkSize: 10 * 1024 * 1024 });
    expect(resolveOptions({ ...base, region: 'oss-cn-beijing', internal: 'true', secure: 'false' })).toMatchObject({ endpointHost: 'oss-cn-beijing-internal.aliyuncs.com', protocol: 'http:' });
    expect(resolveOptions({ ...base, region: 'oss-cn-beijing', signatureversion: 'v4' })).toMatchObject({ signingRegion: 'cn-beijing' });
    expect(resolveOptions({ ...base, endpoint: 'oss-ap-southeast-1.aliyuncs.com', signatureversion: 'v4' })).toMatchObject({ signingRegion: 'ap-southeast-1' });
    expect(() => resolveOptions({ ...base, endpoint: 'localhost:9000', signatureversion: 'v4' })).toThrow(AliOssOptionError);
    expect(() => resolveOptions(base)).toThrow(/region/);
  });

  it('refuses a part size under OSS\'s 100 KiB minimum and unknown options', () => {
    expect(validate({ accesskeyid: 'i', accesskeysecret: 's', bucket: 'bkt', chunksize: 1000 }).errors).toContain('/chunksize minimum');
    expect(validate({ accesskeyid: 'i', accesskeysecret: 's', bucket: 'bkt', oss_bucket: 'x' }).errors).toContain(' additionalProperties');
  });
});
