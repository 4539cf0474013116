import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { runCli, ensureBuilt } from '../cli/helpers.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const load = async (text: string, env: Record<string, string> = {}) => {
  const cwd = await workdir({ 'config.yml': text });
  return { cwd, file: path.join(cwd, 'config.yml'), result: loadConfig({ cwd, configFile: 'config.yml', env }) };
};

const BASE = 'version: 0.1\nstorage:\n  inmemory: {}\n';

describe('the proxy section (pull-through mirroring)', () => {
  it("reads distribution's proxy section as one upstream mirroring the whole namespace, ttl 168h by default", async () => {
    const { result } = await load(`${BASE}proxy:\n  remoteurl: https://registry-1.docker.io/\n  username: bob\n  password: s3cret-pass\n`);
    const config = await result;
    expect(config.mirror?.upstreams).toEqual([
      { name: 'proxy', remoteurl: 'https://registry-1.docker.io', username: 'bob', password: 's3cret-pass', ttl: '168h', prefix: '', remoteprefix: '', sync: [], path: 'proxy' },
    ]);
  });

  it('reads several upstreams, each with its prefix, remoteprefix and ttl (the section ttl when none)', async () => {
    const { result } = await load(
      `${BASE}proxy:\n  ttl: 1h\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      prefix: mirror/hub\n      remoteprefix: library\n    - name: quay\n      remoteurl: https://quay.io\n      prefix: mirror/quay\n      ttl: 10m\n      sync: [{ repositories: [x] }]\n`,
    );
    const upstreams = (await result).mirror?.upstreams ?? [];
    expect(upstreams.map((u) => [u.name, u.prefix, u.remoteprefix, u.ttl, u.sync.length, u.path])).toEqual([
      ['hub', 'mirror/hub', 'library', '1h', 0, 'proxy.upstreams[0]'],
      ['quay', 'mirror/quay', '', '10m', 1, 'proxy.upstreams[1]'],
    ]);
  });

  it("takes distribution's REGISTRY_PROXY_* variables", async () => {
    const { result } = await load(BASE, { REGISTRY_PROXY_REMOTEURL: 'http://127.0.0.1:5001', REGISTRY_PROXY_TTL: '5m' });
    expect((await result).mirror?.upstreams).toMatchObject([{ name: 'proxy', remoteurl: 'http://127.0.0.1:5001', ttl: '5m', prefix: '' }]);
  });

  it('refuses a proxy section without any upstream, and credentials without a remoteurl', async () => {
    const { file, result } = await load(`${BASE}proxy:\n  username: bob\n  password: hidden-one\n`);
    const error = await configErrorOf(result);
    expectIssue(error, file, 'proxy', 'remoteurl', 'upstreams');
    expectIssue(error, file, 'proxy.username', 'not set');
    expect(error.message).not.toContain('hidden-one');
  });

  it('refuses two upstreams with one prefix or one name, an invalid prefix, a URL that is not http(s) and an unknown key', async () => {
    const { file, result } = await load(
      `${BASE}proxy:\n  remoteurl: https://a.example\n  upstreams:\n    - { name: proxy, remoteurl: https://b.example, prefix: m/b }\n    - { name: c, remoteurl: https://c.example, prefix: m/b }\n    - { name: d, remoteurl: ftp://d.example, prefix: M/D }\n    - { name: e, remoteurl: https://e.example, prefix: m/e, colour: blue }\n`,
    );
    const error = await configErrorOf(result);
    expectIssue(error, file, 'proxy.upstreams[0].name', 'taken by proxy.remoteurl');
    expectIssue(error, file, 'proxy.upstreams[1].prefix', 'already mirrored from proxy.upstreams[0]');
    expectIssue(error, file, 'proxy.upstreams[2].remoteurl', 'http(s) URL');
    expectIssue(error, file, 'proxy.upstreams[2].prefix', 'repository name prefix');
    expect(error.message).toContain('colour');
  });

  it('config check lists each upstream and what it mirrors, and never the password', async () => {
    await ensureBuilt();
    const { cwd, file } = await load(`${BASE}proxy:\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      prefix: mirror/hub\n      remoteprefix: library\n      username: bob\n      password: pa55-word-xyz\n`);
    const result = await runCli(['config', 'check', '--config', file], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('mirror hub: mirror/hub/* from https://registry-1.docker.io (its library/*), tags re-checked after 168h, as bob');
    expect(result.stdout + result.stderr).not.toContain('pa55-word-xyz');
  });
});
