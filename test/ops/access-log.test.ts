/**
 * The access log of `stowage serve`: one info line per request with the client (X-Forwarded-For believed only
 * from http.trustedproxies), route pattern, repository, status, bytes, duration, user agent and the request
 * id echoed in X-Request-Id; `log.formatter: text` prints readable lines; `log.accesslog.disabled` none.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, waitForOutput, type ServerProcess } from '../support/server-process.js';
import { PROJECT_ROOT } from '../support/stowage.js';
import { pushBlobMonolithic } from '../support/push-by-url.js';
import { eventually, tempFolder } from './support.js';

const CLI = path.join(PROJECT_ROOT, 'bin', 'stowage.js');

describe('the access log', () => {
  let work: Awaited<ReturnType<typeof tempFolder>>;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    work = await tempFolder('accesslog');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => work?.remove());

  async function serve(name: string, lines: string[]): Promise<string> {
    const file = path.join(work.dir, `${name}.yml`);
    await writeFile(file, ['http:', '  addr: 127.0.0.1:0', ...lines, 'storage:', `  filesystem: { rootdirectory: ./${name}-data }`, ''].join('\n'));
    server = spawnServer(process.execPath, [CLI, 'serve', '--config', file], process.env, work.dir);
    return (await waitForOutput(server, /stowage listening on (http:\/\/\S+)/))[1]!;
  }
  const jsonLines = (): Array<Record<string, any>> =>
    server!
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);
  const accessLines = () => jsonLines().filter((line) => line.access !== undefined);

  it('writes one info line per request, believing X-Forwarded-For only from a trusted proxy, and echoes a sane X-Request-Id', async () => {
    const url = await serve('json', ['  trustedproxies: [127.0.0.0/8]', 'log: { level: info }']);
    const blob = randomBytes(5000);
    expect(await pushBlobMonolithic(url, 'logs/app', blob)).toBe(201);
    const tagged = await request(`${url}/v2/logs/app/tags/list`, {
      headers: { 'x-forwarded-for': '203.0.113.9, 10.1.2.3', 'user-agent': 'access-test/2', 'x-request-id': 'client-chosen-id.42' },
    });
    await tagged.body.dump();
    expect(tagged.headers['x-request-id']).toBe('client-chosen-id.42');
    // an id that could break a log line or a header is replaced
    const hostile = await request(`${url}/v2/`, { headers: { 'x-request-id': 'a b\u00e9"' } });
    await hostile.body.dump();
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);

    await eventually('three access lines', async () => accessLines().length >= 3);
    const [push, tags, base] = accessLines();
    expect(push).toMatchObject({ level: 30, access: { method: 'POST', route: '/v2/<name>/blobs/uploads/', repository: 'logs/app', status: 201, bytesIn: blob.length, client: '127.0.0.1' } });
    expect(push!.access.durationMs).toBeGreaterThanOrEqual(0);
    // the peer 127.0.0.1 is a trusted proxy; the hop it names, 10.1.2.3, is not, so that is the client (and
    // 203.0.113.9, which only the untrusted hop vouches for, is not believed)
    expect(tags!.access).toMatchObject({ route: '/v2/<name>/tags/list', status: 200, client: '10.1.2.3', userAgent: 'access-test/2', requestId: 'client-chosen-id.42' });
    expect(tags!.access.bytesOut).toBeGreaterThan(0);
    expect(base!.access).toMatchObject({ route: '/v2/', status: 200, bytesOut: 2, requestId: hostile.headers['x-request-id'] });
  });

  it('does not believe X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const url = await serve('untrusted', ['  trustedproxies: [192.0.2.1]']);
    const answer = await request(`${url}/v2/`, { headers: { 'x-forwarded-for': '198.51.100.7' } });
    await answer.body.dump();
    await eventually('an access line', async () => accessLines().length >= 1);
    expect(accessLines()[0]!.access.client).toBe('127.0.0.1');
  });

  it('is written whole at a level below info, and skipped at a level above it', async () => {
    // the hook builds no record when the logger's level hides info: a level that shows info must still get all of it
    const url = await serve('debug', ['log: { level: debug }']);
    const answer = await request(`${url}/v2/logs/app/tags/list`, { headers: { 'user-agent': 'debug-test/1' } });
    await answer.body.dump();
    await eventually('an access line', async () => accessLines().length >= 1);
    const line = accessLines()[0]!;
    expect(line.level).toBe(30);
    expect(Object.keys(line.access).sort()).toEqual(['bytesIn', 'bytesOut', 'client', 'durationMs', 'method', 'repository', 'requestId', 'route', 'status', 'userAgent']);
    expect(line.access).toMatchObject({ method: 'GET', route: '/v2/<name>/tags/list', repository: 'logs/app', status: 404, bytesIn: 0, client: '127.0.0.1', userAgent: 'debug-test/1', requestId: answer.headers['x-request-id'] });
    expect(line.access.bytesOut).toBeGreaterThan(0);
    await server!.close();

    const hidden = await serve('warn', ['log: { level: warn }']);
    for (let i = 0; i < 3; i++) await (await request(`${hidden}/v2/`)).body.dump();
    await server!.close();
    expect(server!.output()).not.toMatch(/"access"/);
  });

  it('log.formatter text prints one readable line per request; log.accesslog.disabled prints none', async () => {
    const url = await serve('text', ['log:', '  formatter: text']);
    const answer = await request(`${url}/v2/_catalog`, { headers: { 'user-agent': 'text-test' } });
    await answer.body.dump();
    await eventually('a readable access line', async () => /INFO: GET \/v2\/_catalog 200 \{.*"userAgent":"text-test"/.test(server!.output()));
    expect(server!.output()).not.toMatch(/^\{"level"/m);
    await server!.close();

    const quiet = await serve('quiet', ['log:', '  accesslog: { disabled: true }']);
    for (let i = 0; i < 3; i++) await (await request(`${quiet}/v2/`)).body.dump();
    // the server's next line (its shutdown) comes after whatever the requests logged
    await server!.close();
    expect(server!.output()).toMatch(/stowage shutting down/);
    expect(accessLines()).toEqual([]);
  });
});
