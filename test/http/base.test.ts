import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from '../../src/embed.js';
import { inMemoryDriver, startTestRegistry, type TestRegistry } from './support/registry.js';

describe('the API base and routing', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });

  it('GET /v2/ answers 200 with an empty JSON object and the API version header', async () => {
    const response = await registry.send('GET', '/v2/');
    expect(response.status).toBe(200);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(response.json()).toEqual({});
  });

  it('HEAD /v2/ answers 200 without a body', async () => {
    const response = await registry.send('HEAD', '/v2/');
    expect(response.status).toBe(200);
    expect(response.body.length).toBe(0);
  });

  it('an unknown endpoint answers 404 with OCI error JSON, never HTML', async () => {
    const response = await registry.send('GET', '/nothing/here');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });

  it('a method an endpoint does not support answers 405 UNSUPPORTED with Allow', async () => {
    const response = await registry.send('POST', '/v2/repo/tags/list');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
  });

  it.each([
    ['uppercase letters', 'Repo'],
    ['a leading separator', '-repo'],
    ['a doubled slash', 'a//b'],
    ['a trailing dot', 'repo.'],
    ['three underscores', 'a___b'],
  ])('a repository name with %s answers 400 NAME_INVALID', async (_why, name) => {
    const response = await registry.send('GET', `/v2/${name}/tags/list`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
  });

  it('a repository name longer than 255 characters answers 400 NAME_INVALID', async () => {
    const name = Array.from({ length: 26 }, () => 'abcdefghij').join('/');
    const response = await registry.send('GET', `/v2/${name}/tags/list`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
  });

  it('names with every separator of the grammar and several components are accepted', async () => {
    const response = await registry.send('GET', '/v2/a.b/c_d/e__f/g--h/tags/list');
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ errors: [{ code: 'NAME_UNKNOWN' }] });
  });
});

describe('requests node cannot parse', () => {
  it('a malformed Content-Length answers 400 with OCI error JSON', async () => {
    const registry = await startTestRegistry();
    try {
      const url = new URL(registry.url);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write('PATCH /v2/a/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
        });
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
      expect(reply).toContain('Docker-Distribution-API-Version: registry/2.0');
      expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
    } finally {
      await registry.close();
    }
  });
});

describe('idle connections', () => {
  it('keeps an idle keep-alive connection open well past node\'s 5 s default, so a client reusing it is not cut off', async () => {
    const registry = await startTestRegistry();
    try {
      const url = new URL(registry.url);
      const socket = connect(Number(url.port), url.hostname);
      let data = '';
      let closed = false;
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => (closed = true));
      const ask = async (): Promise<string> => {
        const before = data.length;
        socket.write(`GET /v2/ HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
        while (!data.slice(before).includes('{}')) {
          if (closed) throw new Error('the server closed the connection');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return data.slice(before);
      };
      await new Promise((resolve) => socket.once('connect', resolve));
      expect(await ask()).toMatch(/^HTTP\/1\.1 200 /);
      expect(data).toMatch(/Keep-Alive: timeout=75/i);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(closed).toBe(false);
      expect(await ask()).toMatch(/^HTTP\/1\.1 200 /);
      socket.destroy();
    } finally {
      await registry.close();
    }
  }, 20_000);
});

describe('http configuration', () => {
  it('serves under http.prefix, writes absolute Locations under http.host, and adds http.headers', async () => {
    const running = await startRegistry({
      driver: inMemoryDriver(),
      deleteEnabled: true,
      http: { prefix: '/registry/', host: 'https://registry.example.com', headers: { 'X-Served-By': 'stowage' } },
    });
    try {
      const base = await request(`${running.url}/registry/v2/`);
      await base.body.dump();
      expect(base.statusCode).toBe(200);
      expect(base.headers['x-served-by']).toBe('stowage');
      const outside = await request(`${running.url}/v2/`);
      await outside.body.dump();
      expect(outside.statusCode).toBe(404);
      const upload = await request(`${running.url}/registry/v2/a/blobs/uploads/`, { method: 'POST' });
      await upload.body.dump();
      expect(upload.statusCode).toBe(202);
      expect(upload.headers.location).toMatch(/^https:\/\/registry\.example\.com\/registry\/v2\/a\/blobs\/uploads\/s1[A-Za-z0-9_-]{54}$/);
    } finally {
      await running.close();
    }
  });
});
