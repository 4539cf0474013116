import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/tls-ca.js';
import { basic, pushImage, startAuthRegistry, type AuthRegistry } from './support.js';

let dir: string;
let ca: TestCa;
let server: IssuedCertificate;
let robot: IssuedCertificate;
let stranger: IssuedCertificate;
let foreign: IssuedCertificate;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-tls-'));
  ca = createTestCa(dir, 'ca');
  server = ca.issue('server', { cn: 'localhost', names: ['127.0.0.1', 'localhost'] });
  robot = ca.issue('robot', { cn: 'ci-robot', client: true });
  stranger = ca.issue('stranger', { cn: 'stranger', client: true });
  foreign = createTestCa(dir, 'other-ca').issue('foreign', { cn: 'ci-robot', client: true });
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const agent = (client?: IssuedCertificate, maxVersion?: 'TLSv1.2'): Agent =>
  new Agent({
    connect: {
      ca: readFileSync(ca.cert),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
      ...(maxVersion ? { maxVersion } : {}),
    },
  });

async function get(url: string, dispatcher: Agent, headers: Record<string, string> = {}): Promise<number> {
  const response = await request(url, { dispatcher, headers });
  await response.body.dump();
  return response.statusCode;
}

describe('http.tls with htpasswd: Basic over HTTPS', () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry((d) => ({ htpasswd: { realm: 'tls', path: `${d}/htpasswd` } }), {
      tls: () => ({ certificate: server.cert, key: server.key, clientcas: [], minimumtls: 'tls1.3' }),
    });
  });
  afterAll(async () => registry?.close());

  it('serves https with the configured certificate, and refuses clients below minimumtls', async () => {
    expect(registry.url).toMatch(/^https:/);
    expect(await get(`${registry.url}/v2/`, agent(), basic('alice'))).toBe(200);
    expect(await get(`${registry.url}/v2/`, agent())).toBe(401);
    await expect(get(`${registry.url}/v2/`, agent(undefined, 'TLSv1.2'))).rejects.toThrow();
  });
});

describe('mutual TLS (http.tls.clientcas): the client certificate CN is the identity the rules name', () => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry(
      () => ({ access: { groups: { robots: ['ci-robot'] }, anonymouspull: [], rules: [{ repositories: ['team-a/*'], users: [], groups: ['robots'], actions: ['pull', 'push'] }] } }),
      { tls: () => ({ certificate: server.cert, key: server.key, clientcas: [ca.cert], minimumtls: 'tls1.2' }) },
    );
  });
  afterAll(async () => registry?.close());

  it('a certificate from clientcas whose CN a rule names may push and pull', async () => {
    const dispatcher = agent(robot);
    const client = { ...registry, send: (method: string, target: string, options: { body?: string | Uint8Array; headers?: Record<string, string> } = {}) => sendWith(dispatcher, registry.url, method, target, options) };
    await pushImage(client, 'team-a/app', 'v1', {});
    expect(await get(`${registry.url}/v2/team-a/app/manifests/v1`, dispatcher)).toBe(200);
  });

  it('a certificate of the same CA whose CN no rule names is 403 DENIED', async () => {
    expect(await get(`${registry.url}/v2/team-a/app/manifests/v1`, agent(stranger))).toBe(403);
  });

  it('no certificate, or one from another CA with the same CN, is refused in the handshake', async () => {
    await expect(get(`${registry.url}/v2/`, agent())).rejects.toThrow();
    await expect(get(`${registry.url}/v2/`, agent(foreign))).rejects.toThrow();
  });
});

async function sendWith(dispatcher: Agent, base: string, method: string, target: string, { body, headers }: { body?: string | Uint8Array; headers?: Record<string, string> }) {
  const response = await request(`${base}${target}`, { dispatcher, method: method as 'GET', body, headers: headers ?? {} });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(response.headers)) flat[key] = Array.isArray(value) ? value.join(', ') : String(value);
  return { status: response.statusCode, headers: flat, body: bytes, json: <T,>() => JSON.parse(bytes.toString('utf8')) as T };
}
