import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, serveCli } from '../cli/helpers.js';
import { tempDir } from '../plugins/helpers.js';

const secret = (label: string): string => `${label}-${randomBytes(12).toString('hex')}`;

/**
 * A loopback Swift (tempauth v1) whose every refusal echoes the request back: its headers (the token, the
 * key) and URL, as a misconfigured proxy or a debugging backend does. Nothing it echoes may reach stowage's
 * logs, stderr or HTTP answers.
 */
async function startEchoingSwift(token: string, mode: { refuseContainer: boolean }) {
  const server = http.createServer((req, res) => {
    const port = (server.address() as AddressInfo).port;
    if (req.url === '/auth/v1.0') {
      res.writeHead(200, { 'X-Storage-Url': `http://127.0.0.1:${port}/v1/AUTH_test`, 'X-Auth-Token': token, 'Content-Length': 0 });
      res.end();
      return;
    }
    // the container exists and the account takes the TempURL key; everything else is refused, echoed
    const setup = (req.method === 'HEAD' && req.url === '/v1/AUTH_test/stowage') || (req.method === 'POST' && req.url === '/v1/AUTH_test/stowage');
    if (!mode.refuseContainer && setup) {
      res.writeHead(204);
      res.end();
      return;
    }
    const echo = `refused ${req.method} ${req.url}\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`;
    res.writeHead(403, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(echo) });
    res.end(req.method === 'HEAD' ? undefined : echo);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('no secret reaches logs, stderr or HTTP answers, even when the backend echoes requests', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  const secrets = { password: secret('swift-password'), token: secret('swift-token'), tempurl: secret('tempurl-key'), http: secret('http-secret') };
  const config = (authurl: string) =>
    [
      'version: 0.1',
      'http:',
      '  addr: 127.0.0.1:0',
      `  secret: ${secrets.http}`,
      'log:',
      '  level: debug',
      'storage:',
      '  swift:',
      `    authurl: ${authurl}/auth/v1.0`,
      '    username: "test:tester"',
      `    password: ${secrets.password}`,
      '    container: stowage',
      `    secretkey: ${secrets.tempurl}`,
      '    maxretries: 0',
      '',
    ].join('\n');
  const expectNoSecret = (text: string) => {
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} leaked`).toBe(false);
  };

  beforeAll(async () => {
    await ensureBuilt();
    work = await tempDir('secrets');
  });
  afterAll(() => work.remove());

  it('a startup failure against an echoing backend says what failed on stderr, without the token, key or password', async () => {
    const backend = await startEchoingSwift(secrets.token, { refuseContainer: true });
    try {
      const file = path.join(work.dir, 'refused.yaml');
      await writeFile(file, config(backend.url));
      const result = await runCli(['serve', '--config', file], { cwd: work.dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('403');
      expectNoSecret(result.stderr + result.stdout);
    } finally {
      await backend.close();
    }
  });

  it('requests failing on an echoing backend answer 503 and log the failure, without the token, key or password', async () => {
    const backend = await startEchoingSwift(secrets.token, { refuseContainer: false });
    const file = path.join(work.dir, 'serving.yaml');
    await writeFile(file, config(backend.url));
    const serving = await serveCli(['--config', file], { cwd: work.dir });
    const answers: string[] = [];
    try {
      for (const [method, target] of [
        ['GET', '/v2/team/app/manifests/latest'],
        ['GET', '/v2/team/app/tags/list'],
        ['POST', '/v2/team/app/blobs/uploads/'],
        ['GET', '/v2/_catalog'],
      ] as const) {
        const response = await fetch(`${serving.url}${target}`, { method });
        const body = await response.text();
        answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${body}`);
        expect(response.status).toBe(503);
      }
    } finally {
      await serving.stop();
      await backend.close();
    }
    const { stdout, stderr } = serving.output();
    // the failures were logged (so the check below looked at real error lines)
    expect(stdout).toContain('swift answered 403');
    expectNoSecret(answers.join('\n') + stdout + stderr);
  });

  it('config check never prints credentials written inside a URL, nor secret options', async () => {
    const urlPassword = secret('url-password');
    const file = path.join(work.dir, 'url-credentials.yaml');
    await writeFile(file, config(`http://tester:${urlPassword}@127.0.0.1:9`));
    const result = await runCli(['config', 'check', '--config', file], { cwd: work.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('authurl');
    expect(result.stdout).toContain('127.0.0.1:9/auth/v1.0');
    expect(result.stdout + result.stderr).not.toContain(urlPassword);
    expectNoSecret(result.stdout + result.stderr);
  });
});
