import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { PROJECT_ROOT } from '../support/stowage.js';

/** The YAML blocks of the README's Security section, read at test time. */
async function securityExamples(): Promise<string[]> {
  const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Security\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  return [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

describe("the README's security examples", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-readme-auth-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('has one complete example per mode (htpasswd, external token server, built-in token server, mutual TLS), each read without an error or a refusal', async () => {
    const examples = await securityExamples();
    expect(examples).toHaveLength(4);
    const modes: string[] = [];
    for (const [index, text] of examples.entries()) {
      const file = path.join(dir, `example-${index}.yml`);
      await writeFile(file, text);
      const config = await loadConfig({ cwd: dir, configFile: file, env: {} });
      expect(config.refusals ?? []).toEqual([]);
      expect(config.http.tls?.certificate).toBe('/etc/stowage/registry.crt');
      const auth = config.auth!;
      modes.push(auth.tokenserver ? 'tokenserver' : auth.token ? 'token' : auth.htpasswd ? 'htpasswd' : config.http.tls?.clientcas.length ? 'mtls' : 'none');
    }
    expect(modes).toEqual(['htpasswd', 'token', 'tokenserver', 'mtls']);
  });
});
