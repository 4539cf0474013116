/**
 * Every config file name the documentation promises is found. The names are read from the documents
 * themselves at test time (README.md, docs/cli.md, docs/config.md), so a name added to the docs without
 * support, or support dropped without fixing the docs, fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configErrorOf, expectIssue, workdir } from './helpers.js';

const repoFile = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');

/** the paragraph of `text` that starts at the first line matching `start` (up to a blank line) */
function paragraphAt(text: string, start: RegExp): string {
  const lines = text.split('\n');
  const from = lines.findIndex((line) => start.test(line));
  expect(from, `no line matching ${start}`).toBeGreaterThanOrEqual(0);
  const to = lines.findIndex((line, i) => i > from && line.trim() === '');
  return lines.slice(from, to === -1 ? undefined : to).join('\n');
}

/** `a.b|c` -> a.b, a.c; `package.json#stowage` -> package.json; names with a glob are left out */
function fileNamesIn(paragraph: string): string[] {
  const names: string[] = [];
  for (const [, code] of paragraph.matchAll(/`([^`]+)`/g)) {
    const token = code!.replace(/#stowage$/, '');
    if (!/^(\.stowagerc|stowage\.config|package\.json)/.test(token) || token.includes('*')) continue;
    const [first, ...alternatives] = token.split('|');
    names.push(first!);
    const stem = first!.slice(0, first!.lastIndexOf('.') + 1);
    for (const ext of alternatives) names.push(stem + ext);
  }
  return names;
}

const documented = new Map<string, string[]>([
  ['README.md', fileNamesIn(paragraphAt(repoFile('README.md'), /cosmiconfig's search/))],
  ['docs/cli.md', fileNamesIn(paragraphAt(repoFile('docs/cli.md'), /searched for in the working folder/))],
  ['docs/config.md', fileNamesIn(paragraphAt(repoFile('docs/config.md'), /the first of these files in the working directory/))],
]);

function configText(name: string): string {
  const root = `/srv/${name}`;
  if (name === 'package.json') return JSON.stringify({ name: 'site', stowage: { storage: { filesystem: { rootdirectory: root } } } });
  if (name.endsWith('.json')) return JSON.stringify({ storage: { filesystem: { rootdirectory: root } } });
  if (name.endsWith('.cjs')) return `module.exports = { storage: { filesystem: { rootdirectory: ${JSON.stringify(root)} } } };\n`;
  if (name.endsWith('.js') || name.endsWith('.mjs')) return `export default { storage: { filesystem: { rootdirectory: ${JSON.stringify(root)} } } };\n`;
  return `storage:\n  filesystem:\n    rootdirectory: ${root}\n`;
}

describe('the config file names the documentation lists', () => {
  for (const [doc, names] of documented) {
    it(`${doc} lists file names, and none of TypeScript`, () => {
      expect(names.length).toBeGreaterThan(5);
      expect(names.filter((n) => n.endsWith('.ts'))).toEqual([]);
    });

    it(`are each found and read by the search (${doc})`, async () => {
      for (const name of names) {
        // a .js config is ESM only inside a package of type module, as Node reads it
        const extra: Record<string, string> = name.endsWith('.js') ? { 'package.json': '{"type": "module"}' } : {};
        const cwd = await workdir({ ...extra, [name]: configText(name) });
        const config = await loadConfig({ cwd, env: {} });
        expect(config.source.file, name).toBe(path.join(cwd, name));
        expect(config.storage.options.rootdirectory, name).toBe(`/srv/${name}`);
      }
    });
  }
});

describe('REGISTRY_CONFIGURATION_PATH (distribution\'s variable)', () => {
  it('names the file read, before DOCKER_REGISTRY_CONFIG and the search, and after --config', async () => {
    const cwd = await workdir({
      'stowage.config.yaml': configText('found'),
      'etc/distribution.yml': 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /srv/distribution\nhttp:\n  addr: 127.0.0.1:5999\n',
      'legacy.yml': 'dev:\n  storage: local\n  storage_path: /srv/legacy\n',
      'argument.yml': configText('argument'),
    });
    const env = { REGISTRY_CONFIGURATION_PATH: 'etc/distribution.yml', DOCKER_REGISTRY_CONFIG: 'legacy.yml' };
    const config = await loadConfig({ cwd, env });
    expect(config.source).toEqual({ file: path.join(cwd, 'etc/distribution.yml'), format: 'stowage' });
    expect(config.storage.options.rootdirectory).toBe('/srv/distribution');
    expect(config.http.addr).toBe('127.0.0.1:5999');

    const argued = await loadConfig({ cwd, env, configFile: 'argument.yml' });
    expect(argued.storage.options.rootdirectory).toBe('/srv/argument');
  });

  it('is an error when the file it names is missing, never a fallback to the defaults', async () => {
    const cwd = await workdir({ 'stowage.config.yaml': configText('found') });
    const error = await configErrorOf(loadConfig({ cwd, env: { REGISTRY_CONFIGURATION_PATH: 'etc/docker/registry/config.yml' } }));
    expectIssue(error, path.join(cwd, 'etc/docker/registry/config.yml'), '', 'file not found (named by REGISTRY_CONFIGURATION_PATH)');
  });
});
