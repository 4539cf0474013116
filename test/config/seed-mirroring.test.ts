/** The seeds' `mirroring` keys: a docker-registry config.yml's whole-registry mirror is distribution's `proxy`. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigIssue } from '../../src/config/types.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const seedFile = (mirroring: string[]): string =>
  ['common: &common', '    loglevel: info', '', 'dev:', '    <<: *common', '    storage: local', '    storage_path: /tmp/registry', '    mirroring:', ...mirroring.map((line) => `        ${line}`), ''].join('\n');

/** what the config says about the mirroring keys themselves */
const mirroringWarnings = (warnings: readonly ConfigIssue[] | undefined): ConfigIssue[] => (warnings ?? []).filter((w) => w.path.startsWith('dev.mirroring.'));

/** the seed READMEs' own lines */
const SAMPLE = ['source: _env:MIRROR_SOURCE', 'source_index: _env:MIRROR_SOURCE_INDEX', 'tags_cache_ttl: _env:MIRROR_TAGS_CACHE_TTL:172800'];

describe('the seeds\' mirroring keys', () => {
  it('make the whole namespace a mirror of source, its tags re-checked after tags_cache_ttl seconds', async () => {
    const cwd = await workdir({ 'config.yml': seedFile(SAMPLE) });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', MIRROR_SOURCE: 'https://registry-1.docker.io' } });
    expect(config.mirror?.upstreams).toEqual([expect.objectContaining({ remoteurl: 'https://registry-1.docker.io', ttl: '172800s', prefix: '', remoteprefix: '' })]);
    expect(mirroringWarnings(config.warnings)).toEqual([]);
  });

  it('take a ttl from the environment as docker-registry did (a YAML number)', async () => {
    const cwd = await workdir({ 'config.yml': seedFile(SAMPLE) });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml', MIRROR_SOURCE: 'http://127.0.0.1:5001', MIRROR_TAGS_CACHE_TTL: '90' } });
    expect(config.mirror?.upstreams[0]).toMatchObject({ remoteurl: 'http://127.0.0.1:5001', ttl: '90s' });
  });

  it('do nothing while source is unset, as in docker-registry, and say nothing either', async () => {
    const cwd = await workdir({ 'config.yml': seedFile(SAMPLE) });
    const config = await loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml' } });
    expect(config.mirror).toBeUndefined();
    expect(config.warnings ?? []).toEqual([]);
  });

  it('report source_index as accepted and unused, at its path, rather than ignoring it silently', async () => {
    const cwd = await workdir({ 'config.yml': seedFile(SAMPLE) });
    const config = await loadConfig({
      cwd,
      env: { DOCKER_REGISTRY_CONFIG: 'config.yml', MIRROR_SOURCE: 'https://registry-1.docker.io', MIRROR_SOURCE_INDEX: 'https://index.docker.io' },
    });
    expect(config.mirror?.upstreams).toHaveLength(1);
    expect(mirroringWarnings(config.warnings)).toEqual([expect.objectContaining({ path: 'dev.mirroring.source_index', message: expect.stringMatching(/^accepted but unused: .*v1 index/) })]);
  });

  it('refuse a tags_cache_ttl that is not a number of seconds, and a source that is not a URL, at their paths', async () => {
    const cwd = await workdir({ 'config.yml': seedFile(['source: registry-1.docker.io', 'tags_cache_ttl: two days']) });
    const error = await configErrorOf(loadConfig({ cwd, env: { DOCKER_REGISTRY_CONFIG: 'config.yml' } }));
    const file = `${cwd}/config.yml`;
    expectIssue(error, file, 'dev.mirroring.tags_cache_ttl', 'expected a number of seconds');
    expectIssue(error, file, 'dev.mirroring.source', 'an http(s) URL', '"registry-1.docker.io"');
  });
});

describe('proxy.upstreams[].sync', () => {
  const file = (sync: string[]): string =>
    ['version: 0.1', 'storage:', '  inmemory: {}', 'proxy:', '  upstreams:', '    - name: hub', '      remoteurl: https://registry.example', '      prefix: hub', '      sync:', ...sync.map((line) => `        ${line}`), ''].join('\n');

  it('hands each entry to the scheduler, one without interval every hour', async () => {
    const cwd = await workdir({ 'config.yml': file(['- repositories: [library/alpine, "team/*"]', '  tags: ["3.*", latest]', '  regex: "^[0-9]"', '  semver: true', '  interval: 30m', '- repositories: [other]']) });
    const config = await loadConfig({ cwd, configFile: 'config.yml', env: {} });
    expect(config.mirror?.upstreams[0]?.sync).toEqual([
      { repositories: ['library/alpine', 'team/*'], tags: ['3.*', 'latest'], regex: '^[0-9]', semver: true, interval: '30m' },
      { repositories: ['other'], interval: '1h' },
    ]);
  });

  it('refuses an entry without repositories, an unknown key, a regex that does not compile and an interval that is no duration, each at its path', async () => {
    const cwd = await workdir({
      'config.yml': file(['- tags: [latest]', '- repositories: [a]', '  regex: "(["', '  interval: hourly', '- repositories: [b]', '  interval: 10ms', '- repositories: [c]', '  tag: [latest]']),
    });
    const error = await configErrorOf(loadConfig({ cwd, configFile: 'config.yml', env: {} }));
    const at = `${cwd}/config.yml`;
    expectIssue(error, at, 'proxy.upstreams[0].sync[0].repositories', 'required');
    expectIssue(error, at, 'proxy.upstreams[0].sync[1].regex', 'expected a regular expression', '"(["');
    expectIssue(error, at, 'proxy.upstreams[0].sync[1].interval', 'a duration such as 1h');
    expectIssue(error, at, 'proxy.upstreams[0].sync[2].interval', 'at least 1s');
    expectIssue(error, at, 'proxy.upstreams[0].sync[3].tag', 'did you mean "tags"');
    expect(error.issues).toHaveLength(5);
  });
});
