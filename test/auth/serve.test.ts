import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, serveCli } from '../cli/helpers.js';
import { createTestCa } from '../support/tls-ca.js';
import { basic, htpasswdText, USERS } from './support.js';

describe('stowage serve with auth and http.tls from a config file', () => {
  let dir: string;
  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-serve-auth-'));
    await writeFile(path.join(dir, 'htpasswd'), htpasswdText());
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('serves HTTPS, challenges, admits an htpasswd user, and applies auth.access (relative paths from the config file)', async () => {
    const ca = createTestCa(dir);
    const server = ca.issue('server', { cn: '127.0.0.1', names: ['127.0.0.1'] });
    const config = path.join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'storage: inmemory',
        'http:',
        '  addr: 127.0.0.1:0',
        '  tls:',
        `    certificate: ${path.basename(server.cert)}`,
        `    key: ${path.basename(server.key)}`,
        'auth:',
        '  htpasswd:',
        '    realm: served',
        '    path: htpasswd',
        '  access:',
        '    rules:',
        '      - repositories: ["alice/**"]',
        '        users: [alice]',
        '        actions: [pull, push]',
        '',
      ].join('\n'),
    );
    const serving = await serveCli(['--config', config], { cwd: os.tmpdir() });
    try {
      expect(serving.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const dispatcher = new Agent({ connect: { ca: readFileSync(ca.cert) } });
      const get = async (target: string, headers: Record<string, string> = {}): Promise<{ status: number; challenge: unknown }> => {
        const response = await request(`${serving.url}${target}`, { dispatcher, headers });
        await response.body.dump();
        return { status: response.statusCode, challenge: response.headers['www-authenticate'] };
      };
      expect(await get('/v2/')).toEqual({ status: 401, challenge: 'Basic realm="served"' });
      expect((await get('/v2/', basic('alice'))).status).toBe(200);
      expect((await get('/v2/alice/app/tags/list', basic('alice'))).status).toBe(404);
      expect((await get('/v2/alice/app/tags/list', basic('bob'))).status).toBe(403);
      await dispatcher.close();
    } finally {
      await serving.stop();
    }
    const { stdout, stderr } = serving.output();
    expect(stdout).not.toContain('passwords are accepted over plain HTTP');
    // the access log names who was admitted, and no credential reaches any output
    const access = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { access?: { user?: string; status: number; repository: string | null } })
      .flatMap((line) => (line.access ? [line.access] : []));
    expect(access.find((entry) => entry.repository === 'alice/app' && entry.status === 404)?.user).toBe('alice');
    expect(access.find((entry) => entry.status === 401)?.user).toBeUndefined();
    for (const secret of [USERS.alice!, USERS.bob!, basic('alice').authorization!.slice(6)]) expect(`${stdout}${stderr}`).not.toContain(secret);
  });

  it('warns at startup when passwords would travel over plain HTTP', async () => {
    const config = path.join(dir, 'plain.yml');
    await writeFile(config, `version: 0.1\nstorage: inmemory\nhttp:\n  addr: 127.0.0.1:0\nauth:\n  htpasswd:\n    realm: r\n    path: ${path.join(dir, 'htpasswd')}\n`);
    const serving = await serveCli(['--config', config], { cwd: dir });
    await serving.stop();
    const warning = serving
      .output()
      .stdout.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; key?: string; msg: string })
      .find((entry) => entry.level === 40 && entry.key === 'http.tls');
    expect(warning?.msg).toContain('passwords are accepted over plain HTTP');
  });
});
