/**
 * `reporting.email` (and a seed config's `email_exceptions`): `stowage serve` mails one report per
 * unexpected server error, with the request id, to a real SMTP server on loopback (the `smtp-server`
 * package, with authentication); the rate limit holds further mails back and the next mail counts them;
 * the SMTP password never appears in stowage's output; a seed config's `bugsnag` is named in a startup warning.
 */
import { rm, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, waitForOutput, type ServerProcess } from '../support/server-process.js';
import { PROJECT_ROOT } from '../support/stowage.js';
import { pushBlobMonolithic, sha256 } from '../support/push-by-url.js';
import { eventually, tempFolder } from './support.js';

const CLI = path.join(PROJECT_ROOT, 'bin', 'stowage.js');
const PASSWORD = 'smtp-pass-7Hq2xZ';

interface ReceivedMail {
  readonly from: string;
  readonly to: string[];
  readonly user: string;
  readonly raw: string;
}

/** a real SMTP receiver on loopback that requires the login `reporter` / PASSWORD */
async function startSmtp(): Promise<{ port: number; mails: ReceivedMail[]; close: () => Promise<void> }> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: false,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'reporter' && auth.password === PASSWORD) callback(null, { user: auth.username });
      else callback(new Error('invalid login'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: String(session.user),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** the body of a mail, quoted-printable soft line breaks undone */
const bodyOf = (mail: ReceivedMail): string => mail.raw.replace(/=\r?\n/g, '');

describe('error reports by mail', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    work = await tempFolder('errormail');
    smtp = await startSmtp();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    smtp.mails.length = 0;
  });
  afterAll(async () => {
    await smtp?.close();
    await work?.remove();
  });

  async function serve(name: string, text: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const file = path.join(work.dir, `${name}.yml`);
    await writeFile(file, text);
    server = spawnServer(process.execPath, [CLI, 'serve', '--config', file], { ...process.env, ...env }, work.dir);
    return (await waitForOutput(server, /stowage listening on (http:\/\/\S+)/))[1]!;
  }

  /** pushes a blob, then turns its data file into a symbolic link to itself: reading it fails inside the server (ELOOP: a 503 storage failure, not the client's doing) */
  async function brokenBlob(url: string, dataDir: string, content: string): Promise<string> {
    const blob = Buffer.from(content);
    expect(await pushBlobMonolithic(url, 'mail/app', blob)).toBe(201);
    const digest = sha256(blob);
    const hex = digest.slice('sha256:'.length);
    const data = path.join(work.dir, dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    await rm(data);
    await symlink('data', data);
    return digest;
  }

  async function fetchStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
    const answer = await request(url, { headers });
    await answer.body.dump();
    return answer.statusCode;
  }

  it('mails each unexpected server error with its request id, within the rate limit, and never prints the password', async () => {
    const url = await serve(
      'native',
      [
        'http: { addr: 127.0.0.1:0 }',
        'storage:',
        '  filesystem: { rootdirectory: ./native-data }',
        'reporting:',
        '  email:',
        `    host: 127.0.0.1`,
        `    port: ${smtp.port}`,
        '    username: reporter',
        `    password: ${PASSWORD}`,
        '    from: stowage@example.test',
        '    to: [ops@example.test, oncall@example.test]',
        '    ratelimit: { mails: 2, interval: 1h }',
        '',
      ].join('\n'),
    );
    const digest = await brokenBlob(url, 'native-data', 'mail me');
    // a client's mistakes are no server errors: nothing is mailed for them
    expect(await fetchStatus(`${url}/v2/mail/app/blobs/sha256:${'0'.repeat(64)}`)).toBe(404);
    expect(await fetchStatus(`${url}/v2/mail/app/manifests/bad:tag`)).toBe(400);

    expect(await fetchStatus(`${url}/v2/mail/app/blobs/${digest}`, { 'x-request-id': 'first-failure' })).toBe(503);
    await eventually('the first mail', async () => smtp.mails.length >= 1);
    expect(await fetchStatus(`${url}/v2/mail/app/blobs/${digest}`, { 'x-request-id': 'second-failure' })).toBe(503);
    await eventually('the second mail', async () => smtp.mails.length >= 2);
    // the limit (2 an hour) is reached: these two are counted, not mailed
    expect(await fetchStatus(`${url}/v2/mail/app/blobs/${digest}`, { 'x-request-id': 'third-failure' })).toBe(503);
    expect(await fetchStatus(`${url}/v2/mail/app/blobs/${digest}`, { 'x-request-id': 'fourth-failure' })).toBe(503);
    await eventually('the four access lines', async () => (server!.output().match(/"status":503/g) ?? []).length >= 4);

    const [first, second] = smtp.mails;
    expect(first).toMatchObject({ from: 'stowage@example.test', to: ['ops@example.test', 'oncall@example.test'], user: 'reporter' });
    expect(bodyOf(first!)).toContain('request id: first-failure');
    expect(bodyOf(first!)).toMatch(/^Subject: stowage: 503 on GET \/v2\/<name>\/blobs\/<digest>/m);
    expect(bodyOf(second!)).toContain('request id: second-failure');
    // stop the server: pending mails are flushed on shutdown, so none can still be on its way
    await server!.close();
    expect(smtp.mails).toHaveLength(2);
    expect(server!.output()).not.toContain(PASSWORD);
  });

  it('reads email_exceptions from a seed config (_env: values), warns that bugsnag is unsupported, and logs a refused login without the password', async () => {
    const seed = [
      'common: &common',
      '    loglevel: _env:LOGLEVEL:info',
      '    search_backend: _env:SEARCH_BACKEND',
      '    sqlalchemy_index_database: _env:SQLALCHEMY_INDEX_DATABASE:sqlite:////tmp/docker-registry.db',
      '    cache:',
      '        host: _env:CACHE_REDIS_HOST',
      '        db: _env:CACHE_REDIS_DB:0',
      '    email_exceptions:',
      '        smtp_host: _env:SMTP_HOST',
      '        smtp_port: _env:SMTP_PORT:25',
      '        smtp_login: _env:SMTP_LOGIN',
      '        smtp_password: _env:SMTP_PASSWORD',
      '        smtp_secure: _env:SMTP_SECURE:false',
      '        from_addr: _env:SMTP_FROM_ADDR:docker-registry@localdomain.local',
      '        to_addr: _env:SMTP_TO_ADDR:noise+dockerregistry@localdomain.local',
      '    bugsnag: _env:BUGSNAG',
      'dev:',
      '    <<: *common',
      '    storage: local',
      '    storage_path: ./seed-data',
      '',
    ].join('\n');
    const wrongPassword = 'not-the-password-Zx81';
    const url = await serve('seed', seed, {
      SETTINGS_FLAVOR: 'dev',
      REGISTRY_HTTP_ADDR: '127.0.0.1:0',
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_LOGIN: 'reporter',
      SMTP_PASSWORD: wrongPassword,
      BUGSNAG: 'bugsnag-api-key',
    });
    const output = server!.output();
    expect(output).toMatch(/"key":"dev\.bugsnag".*bugsnag \(unsupported\)/);
    // unset or defaulted sections that docker-registry would not have switched on are not warned about
    expect(output).not.toMatch(/"key":"dev\.(cache|search_backend|sqlalchemy_index_database)"/);

    const digest = await brokenBlob(url, 'seed-data', 'seed mail');
    expect(await fetchStatus(`${url}/v2/mail/app/blobs/${digest}`, { 'x-request-id': 'seed-failure' })).toBe(503);
    await eventually('the refused login in the log', async () => server!.output().includes('could not mail the server error report'));
    expect(smtp.mails).toHaveLength(0);
    expect(server!.output()).not.toContain(wrongPassword);
  });

  it('refuses a reporting.email it cannot use, naming the key, and never shows the password', async () => {
    const file = path.join(work.dir, 'invalid.yml');
    await writeFile(
      file,
      ['storage:', '  filesystem: { rootdirectory: ./x }', 'reporting:', '  email:', '    port: 70000', '    password: 12345678', '    from: a@example.test', '    to: b@example.test', ''].join('\n'),
    );
    const error = await loadConfig({ cwd: work.dir, configFile: file, env: {} }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n');
    expect(text).toMatch(/reporting\.email\.host: expected a value/);
    expect(text).toMatch(/reporting\.email\.port:/);
    expect(text).toMatch(/reporting\.email\.password:/);
    expect(text).not.toContain('12345678');
  });
});
