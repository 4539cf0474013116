import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EllipticsOptionError, resolveOptions } from '../../plugins/elliptics/src/options.js';

const pluginDir = new URL('../../plugins/elliptics/', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schema.json', pluginDir), 'utf8')) as object;
const manifest = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as {
  stowage: { legacyOptions: Record<string, string>; schema: string; name: string; apiVersion: number };
};

const validate = (options: unknown) => {
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: false });
  const check = ajv.compile(schema);
  const copy = structuredClone(options) as Record<string, unknown>;
  const ok = check(copy);
  return { ok, errors: (check.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`), value: copy };
};

describe('Elliptics driver options', () => {
  it('maps every seed option of docker-registry-driver-elliptics onto an option of the schema', () => {
    const seedKeys = [
      'elliptics_nodes',
      'elliptics_groups',
      'elliptics_wait_timeout',
      'elliptics_check_timeout',
      'elliptics_io_thread_num',
      'elliptics_net_thread_num',
      'elliptics_nonblocking_io_thread_num',
      'elliptics_verbosity',
      'elliptics_logfile',
      'elliptics_loglevel',
      'elliptics_namespace',
      'elliptics_node_flags',
    ];
    const properties = (schema as { properties: Record<string, unknown> }).properties;
    for (const key of seedKeys) expect(Object.keys(properties)).toContain(manifest.stowage.legacyOptions[key]);
    expect(Object.keys(manifest.stowage.legacyOptions).sort()).toEqual([...seedKeys].sort());
    expect(manifest.stowage).toMatchObject({ name: 'elliptics', apiVersion: 2, schema: './schema.json' });
  });

  it('fills in the seed defaults', () => {
    const { ok, value } = validate({ nodes: ['127.0.0.1:1025:2'] });
    expect(ok).toBe(true);
    expect(value).toMatchObject({
      groups: [1],
      waittimeout: 60,
      checktimeout: 60,
      iothreadnum: 2,
      netthreadnum: 2,
      nonblockingiothreadnum: 2,
      verbosity: 'error',
      logfile: '/dev/stderr',
      namespace: 'DOCKER',
    });
    const resolved = resolveOptions({ nodes: ['127.0.0.1:1025:2'] }, '/etc/stowage');
    expect(resolved).toMatchObject({ groups: [1], waitTimeoutMs: 60_000, checkTimeoutMs: 60_000, namespace: 'DOCKER', logLevel: 'error' });
    expect(resolved.logFile).toBeUndefined();
  });

  it('accepts the seed example config: node lists or space-separated strings, group strings, numbers as strings', () => {
    const seedExample = {
      nodes: ['elliptics-host1:1025:2', 'elliptics-host2:1025:10', 'host:1025:2'],
      waittimeout: 60,
      checktimeout: 60,
      iothreadnum: 2,
      netthreadnum: 2,
      nonblockingiothreadnum: 2,
      groups: [1, 2, 3],
      verbosity: 4,
      logfile: '/tmp/logfile.log',
      loglevel: 'debug',
    };
    expect(validate(seedExample).ok).toBe(true);
    const fromEnv = { nodes: ' 10.0.0.1:1025:2  [::1]:1026:10 ', groups: '[1, 2,3]', waittimeout: '30', checktimeout: '5' };
    expect(validate(fromEnv)).toMatchObject({ ok: true, errors: [] });
    const resolved = resolveOptions(fromEnv, '/etc/stowage');
    expect(resolved.nodes).toEqual([
      { host: '10.0.0.1', port: 1025, family: 2 },
      { host: '::1', port: 1026, family: 10 },
    ]);
    expect(resolved).toMatchObject({ groups: [1, 2, 3], waitTimeoutMs: 30_000, checkTimeoutMs: 5000 });
    expect(resolveOptions({ nodes: 'h:1:2', logfile: 'logs/elliptics.log' }, '/etc/stowage').logFile).toBe('/etc/stowage/logs/elliptics.log');
    expect(resolveOptions({ nodes: 'h:1:2', verbosity: 4, loglevel: 'debug' }, '/').logLevel).toBe('debug');
  });

  it('rejects a node that is not host:port:family with family 2 or 10, naming the item', () => {
    for (const bad of ['127.0.0.1:1025', '127.0.0.1:1025:3', 'host:0:2', 'host:70000:2', 'ho st:1025:2']) {
      expect(validate({ nodes: ['127.0.0.1:1025:2', bad] }).errors, bad).toContain('/nodes/1 pattern');
    }
    expect(validate({ nodes: '127.0.0.1:1025:2,host:1025:2' }).errors).toContain('/nodes pattern');
    expect(validate({ nodes: [] }).errors).toContain('/nodes minItems');
    expect(validate({}).errors).toContain(' required');
    expect(() => resolveOptions({ nodes: ['a:1:2', '::1:1025:2'] }, '/')).toThrow(
      new EllipticsOptionError('nodes[1]', '"::1:1025:2": ::1 is an IPv6 address, so the family must be 10'),
    );
    expect(() => resolveOptions({ nodes: 'a:1:7' }, '/')).toThrow(/option nodes: "a:1:7": family 7 is neither 2 \(IPv4\) nor 10 \(IPv6\)/);
  });

  it('rejects empty or malformed groups, timeouts and verbosity', () => {
    expect(validate({ nodes: 'h:1:2', groups: [] }).errors).toContain('/groups minItems');
    expect(validate({ nodes: 'h:1:2', groups: [1, 1] }).errors).toContain('/groups uniqueItems');
    expect(validate({ nodes: 'h:1:2', groups: 'one, two' }).errors).toContain('/groups pattern');
    expect(validate({ nodes: 'h:1:2', groups: [-1] }).errors).toContain('/groups/0 minimum');
    expect(validate({ nodes: 'h:1:2', waittimeout: 0 }).errors).toContain('/waittimeout minimum');
    expect(validate({ nodes: 'h:1:2', waittimeout: '1m' }).errors).toEqual([]);
    expect(validate({ nodes: 'h:1:2', waittimeout: '1 minute' }).errors).toContain('/waittimeout pattern');
    expect(validate({ nodes: 'h:1:2', verbosity: 7 }).errors).toContain('/verbosity maximum');
    expect(validate({ nodes: 'h:1:2', verbosity: 'loud' }).errors).toContain('/verbosity pattern');
    expect(validate({ nodes: 'h:1:2', elliptics_nodes: 'h:1:2' }).errors).toContain(' additionalProperties');
    expect(() => resolveOptions({ nodes: 'h:1:2', groups: 'x' }, '/')).toThrow(/option groups: "x" is not a list of group numbers/);
    expect(() => resolveOptions({ nodes: 'h:1:2', waittimeout: '0' }, '/')).toThrow(/option waittimeout: expected a duration such as 30s, 5m, 1h30m or 250ms, or a bare number of seconds, at least 1000ms, got "0"/);
  });
});
