import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/filesystem/src/index.js';
import { startRegistry } from '../../src/embed.js';
import { createDriverContext } from '../../src/testing/index.js';
import { storageSnapshot, storedPaths } from '../support/storage-snapshot.js';
import { pushBlob, sha256, sha512, startTestRegistry, type TestRegistry } from './support/registry.js';

// a self-proving upload id (src/registry/upload-tokens.ts)
const UPLOAD_LOCATION = /^\/v2\/up\/repo\/blobs\/uploads\/s1[A-Za-z0-9_-]{54}$/;

describe('blob uploads', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry();
  });
  afterAll(async () => {
    await registry.close();
  });

  const start = async (name = 'up/repo'): Promise<string> => {
    const response = await registry.send('POST', `/v2/${name}/blobs/uploads/`);
    expect(response.status).toBe(202);
    return response.headers.location as string;
  };
  const visibleObjects = async (): Promise<string[]> => (await storedPaths(registry.driver)).filter((path) => !path.includes('/_uploads/'));

  it('POST opens a session: 202 with a relative Location, Range 0-0 and Docker-Upload-UUID', async () => {
    const response = await registry.send('POST', '/v2/up/repo/blobs/uploads/');
    expect(response.status).toBe(202);
    expect(response.headers.location).toMatch(UPLOAD_LOCATION);
    expect(response.headers.range).toBe('0-0');
    expect(response.headers['docker-upload-uuid']).toBe((response.headers.location as string).split('/').pop());
    expect(response.headers['content-length']).toBe('0');
  });

  it('a monolithic POST ?digest= stores the blob at once (201, Location, Docker-Content-Digest)', async () => {
    const content = 'monolithic post';
    const digest = sha256(content);
    const response = await registry.send('POST', `/v2/up/repo/blobs/uploads/?digest=${digest}`, {
      body: content,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe(`/v2/up/repo/blobs/${digest}`);
    expect(response.headers['docker-content-digest']).toBe(digest);
    expect((await registry.send('GET', `/v2/up/repo/blobs/${digest}`)).body.toString()).toBe(content);
  });

  it('a monolithic POST whose body does not match the digest answers 400 DIGEST_INVALID and stores nothing', async () => {
    const before = await storedPaths(registry.driver);
    const response = await registry.send('POST', `/v2/up/repo/blobs/uploads/?digest=${sha256('other')}`, { body: 'content' });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    expect(await storedPaths(registry.driver)).toEqual(before);
  });

  it('POST then PUT ?digest= with the whole body stores the blob (201)', async () => {
    const location = await start();
    const content = 'post then put';
    const response = await registry.send('PUT', `${location}?digest=${sha256(content)}`, { body: content });
    expect(response.status).toBe(201);
    expect(response.headers['docker-content-digest']).toBe(sha256(content));
  });

  it('a chunked upload takes inclusive Content-Ranges, reports Range after each chunk, and closes with an empty PUT', async () => {
    const location = await start();
    const first = await registry.send('PATCH', location, {
      body: 'hello ',
      headers: { 'content-range': '0-5', 'content-type': 'application/octet-stream' },
    });
    expect(first.status).toBe(202);
    expect(first.headers.range).toBe('0-5');
    expect(first.headers.location).toBe(location);
    const second = await registry.send('PATCH', location, { body: 'world', headers: { 'content-range': '6-10' } });
    expect(second.status).toBe(202);
    expect(second.headers.range).toBe('0-10');
    const status = await registry.send('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe('0-10');
    expect(status.headers.location).toBe(location);
    const done = await registry.send('PUT', `${location}?digest=${sha256('hello world')}`);
    expect(done.status).toBe(201);
    expect((await registry.send('GET', `/v2/up/repo/blobs/${sha256('hello world')}`)).body.toString()).toBe('hello world');
  });

  it('the last chunk may ride on the closing PUT', async () => {
    const location = await start();
    await registry.send('PATCH', location, { body: 'abc', headers: { 'content-range': '0-2' } });
    const done = await registry.send('PUT', `${location}?digest=${sha256('abcdef')}`, { body: 'def', headers: { 'content-range': '3-5' } });
    expect(done.status).toBe(201);
  });

  it('an out-of-order chunk answers 416 with where the upload stands, and the upload goes on', async () => {
    const location = await start();
    await registry.send('PATCH', location, { body: '0123', headers: { 'content-range': '0-3' } });
    const skipped = await registry.send('PATCH', location, { body: '89', headers: { 'content-range': '8-9' } });
    expect(skipped.status).toBe(416);
    expect(skipped.headers.range).toBe('0-3');
    expect(skipped.headers.location).toBe(location);
    expect(skipped.json()).toMatchObject({ errors: [{ code: 'RANGE_INVALID' }] });
    const repeated = await registry.send('PATCH', location, { body: '0123', headers: { 'content-range': '0-3' } });
    expect(repeated.status).toBe(416);
    const next = await registry.send('PATCH', location, { body: '4567', headers: { 'content-range': '4-7' } });
    expect(next.status).toBe(202);
    expect((await registry.send('PUT', `${location}?digest=${sha256('01234567')}`)).status).toBe(201);
  });

  it('a malformed Content-Range answers 416 BLOB_UPLOAD_INVALID; one disagreeing with Content-Length 416 SIZE_INVALID', async () => {
    const location = await start();
    const malformed = await registry.send('PATCH', location, { body: 'x', headers: { 'content-range': 'zero-one' } });
    expect(malformed.status).toBe(416);
    expect(malformed.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_INVALID' }] });
    const mismatch = await registry.send('PATCH', location, { body: 'xy', headers: { 'content-range': '0-4' } });
    expect(mismatch.status).toBe(416);
    expect(mismatch.json()).toMatchObject({ errors: [{ code: 'SIZE_INVALID' }] });
    expect((await registry.send('GET', location)).headers.range).toBe('0-0');
  });

  it('a streamed PATCH without Content-Range appends the whole body', async () => {
    const location = await start();
    const content = Buffer.alloc(3 * 1024 * 1024, 7);
    const patched = await registry.send('PATCH', location, { body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(patched.status).toBe(202);
    expect(patched.headers.range).toBe(`0-${content.length - 1}`);
    const done = await registry.send('PUT', `${location}?digest=${sha256(content)}`);
    expect(done.status).toBe(201);
  });

  it('a closing PUT with the wrong digest answers 400 DIGEST_INVALID, leaves nothing visible and ends the session', async () => {
    const before = await visibleObjects();
    const location = await start();
    await registry.send('PATCH', location, { body: 'some bytes' });
    const response = await registry.send('PUT', `${location}?digest=${sha256('other bytes')}`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    expect(await visibleObjects()).toEqual(before);
    expect((await registry.send('GET', location)).status).toBe(404);
  });

  it('a closing PUT without ?digest= answers 400 DIGEST_INVALID and keeps the session', async () => {
    const location = await start();
    const response = await registry.send('PUT', location, { body: 'x' });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    expect((await registry.send('GET', location)).status).toBe(204);
  });

  it('a closing PUT with a malformed digest answers 400 DIGEST_INVALID', async () => {
    const location = await start();
    const response = await registry.send('PUT', `${location}?digest=sha256:nothex`);
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('an empty blob can be uploaded', async () => {
    const location = await start();
    const response = await registry.send('PUT', `${location}?digest=${sha256('')}`);
    expect(response.status).toBe(201);
    const head = await registry.send('HEAD', `/v2/up/repo/blobs/${sha256('')}`);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('0');
  });

  it('a sha512 digest is verified and served', async () => {
    const content = 'sha512 content';
    const location = await start();
    const done = await registry.send('PUT', `${location}?digest=${sha512(content)}`, { body: content });
    expect(done.status).toBe(201);
    expect(done.headers['docker-content-digest']).toBe(sha512(content));
    const get = await registry.send('GET', `/v2/up/repo/blobs/${sha512(content)}`);
    expect(get.body.toString()).toBe(content);
    const wrong = await registry.send('POST', `/v2/up/repo/blobs/uploads/?digest=${sha512('nope')}`, { body: content });
    expect(wrong.status).toBe(400);
  });

  it('DELETE on the upload location cancels it (204); the session is then unknown', async () => {
    const location = await start();
    await registry.send('PATCH', location, { body: 'partial' });
    const cancelled = await registry.send('DELETE', location);
    expect(cancelled.status).toBe(204);
    const status = await registry.send('GET', location);
    expect(status.status).toBe(404);
    expect(status.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
    expect([...(await storageSnapshot(registry.driver)).keys()].some((path) => path.includes(location.split('/').pop() as string))).toBe(false);
  });

  it.each([
    ['GET', undefined],
    ['PATCH', 'x'],
    ['PUT', 'x'],
    ['DELETE', undefined],
  ])('%s on an unknown upload answers 404 BLOB_UPLOAD_UNKNOWN', async (method, body) => {
    const query = method === 'PUT' ? `?digest=${sha256('x')}` : '';
    const response = await registry.send(method, `/v2/up/repo/blobs/uploads/00000000-0000-0000-0000-000000000000${query}`, body ? { body } : {});
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
  });

  it('an upload id that could climb out of the uploads folder is refused (encoded slash) or unknown', async () => {
    const encoded = await registry.send('GET', '/v2/up/repo/blobs/uploads/..%2F..%2Fx');
    expect(encoded.status).toBe(400);
    expect(encoded.json()).toMatchObject({ errors: [{ code: 'NAME_INVALID' }] });
    const dotted = await registry.send('GET', '/v2/up/repo/blobs/uploads/..x');
    expect(dotted.status).toBe(404);
    expect(dotted.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN' }] });
  });

  it('a session belongs to its repository', async () => {
    const location = await start();
    const id = location.split('/').pop() as string;
    const response = await registry.send('GET', `/v2/another/repo/blobs/uploads/${id}`);
    expect(response.status).toBe(404);
  });
});

describe('interrupted uploads', () => {
  it('a PATCH cut off mid-body keeps what arrived; the client resumes from the reported Range and the digest still verifies', async () => {
    const registry = await startTestRegistry();
    try {
      const content = Buffer.from(Array.from({ length: 1024 * 1024 }, (_, i) => (i * 7) % 256));
      const location = (await registry.send('POST', '/v2/cut/repo/blobs/uploads/')).headers.location as string;
      const url = new URL(registry.url);
      await new Promise<void>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => {
          socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${content.length}\r\n\r\n`);
          socket.write(content.subarray(0, 300_000), () => setTimeout(() => socket.destroy(), 100));
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      let status = await registry.send('GET', location);
      for (let i = 0; i < 50 && status.headers.range === '0-0'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = await registry.send('GET', location);
      }
      expect(status.status).toBe(204);
      const received = Number((status.headers.range as string).split('-')[1]) + 1;
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThanOrEqual(300_000);
      const rest = await registry.send('PATCH', location, { body: content.subarray(received), headers: { 'content-range': `${received}-${content.length - 1}` } });
      expect(rest.status).toBe(202);
      const done = await registry.send('PUT', `${location}?digest=${sha256(content)}`);
      expect(done.status).toBe(201);
      expect(sha256((await registry.send('GET', `/v2/cut/repo/blobs/${sha256(content)}`)).body)).toBe(sha256(content));
    } finally {
      await registry.close();
    }
  });
});

describe('cross-repository mounts', () => {
  let registry: TestRegistry;
  let digest: string;
  beforeAll(async () => {
    registry = await startTestRegistry();
    digest = await pushBlob(registry, 'mount/source', 'shared layer');
  });
  afterAll(async () => {
    await registry.close();
  });

  it('POST ?mount=&from= links the blob from the other repository (201)', async () => {
    const response = await registry.send('POST', `/v2/mount/target/blobs/uploads/?mount=${digest}&from=mount/source`);
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe(`/v2/mount/target/blobs/${digest}`);
    expect(response.headers['docker-content-digest']).toBe(digest);
    expect((await registry.send('GET', `/v2/mount/target/blobs/${digest}`)).body.toString()).toBe('shared layer');
  });

  it('a mount of a blob the source does not have opens an upload session instead (202)', async () => {
    const response = await registry.send('POST', `/v2/mount/other/blobs/uploads/?mount=${sha256('absent')}&from=mount/source`);
    expect(response.status).toBe(202);
    expect(response.headers.location).toMatch(/^\/v2\/mount\/other\/blobs\/uploads\//);
  });

  it('a mount from a repository that lacks the blob opens a session even when another repository has it', async () => {
    const response = await registry.send('POST', `/v2/mount/third/blobs/uploads/?mount=${digest}&from=mount/empty`);
    expect(response.status).toBe(202);
  });

  it('a mount without from links a blob the registry already holds (automatic mount)', async () => {
    const response = await registry.send('POST', `/v2/mount/auto/blobs/uploads/?mount=${digest}`);
    expect(response.status).toBe(201);
    expect((await registry.send('HEAD', `/v2/mount/auto/blobs/${digest}`)).status).toBe(200);
  });

  it('a mount with a malformed digest answers 400 DIGEST_INVALID', async () => {
    const response = await registry.send('POST', '/v2/mount/auto/blobs/uploads/?mount=sha256:zz&from=mount/source');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });
});

describe('resumable uploads across registry processes', () => {
  it('a chunked upload begun on one registry process completes on another sharing the storage', async () => {
    const first = await startTestRegistry();
    const second = await startTestRegistry({ driver: first.driver });
    try {
      const started = await first.send('POST', '/v2/resume/repo/blobs/uploads/');
      const location = started.headers.location as string;
      await first.send('PATCH', location, { body: 'begun on one ', headers: { 'content-range': '0-12' } });
      const status = await second.send('GET', location);
      expect(status.status).toBe(204);
      expect(status.headers.range).toBe('0-12');
      await second.send('PATCH', location, { body: 'and ended on another', headers: { 'content-range': '13-32' } });
      const wrong = sha256('begun on one and ended elsewhere');
      const whole = sha256('begun on one and ended on another');
      // the process without the running hash re-hashes from storage: a wrong digest is still refused
      const refusedLocation = (await first.send('POST', '/v2/resume/repo/blobs/uploads/')).headers.location as string;
      await first.send('PATCH', refusedLocation, { body: 'x' });
      expect((await second.send('PUT', `${refusedLocation}?digest=${wrong}`)).status).toBe(400);
      const done = await first.send('PUT', `${location}?digest=${whole}`);
      expect(done.status).toBe(201);
      expect((await second.send('GET', `/v2/resume/repo/blobs/${whole}`)).body.toString()).toBe('begun on one and ended on another');
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('resumable uploads across a restart, on the filesystem plugin', () => {
  it('a chunked upload begun before the server restarts completes after it, and nothing of it is left behind', async () => {
    const rootdirectory = await mkdtemp(path.join(os.tmpdir(), 'stowage-h4-restart-'));
    const start = async () =>
      startRegistry({ driver: await createDriver({ rootdirectory }, createDriverContext('filesystem')), deleteEnabled: true, addr: '127.0.0.1:0' });
    const first = Buffer.alloc(1024 * 1024, 1);
    const second = Buffer.alloc(512 * 1024, 2);
    const digest = sha256(Buffer.concat([first, second]));
    try {
      const before = await start();
      const started = await request(`${before.url}/v2/restart/repo/blobs/uploads/`, { method: 'POST' });
      await started.body.dump();
      const location = started.headers.location as string;
      const patched = await request(`${before.url}${location}`, { method: 'PATCH', body: first, headers: { 'content-range': `0-${first.length - 1}` } });
      await patched.body.dump();
      expect(patched.statusCode).toBe(202);
      await before.close();

      const after = await start();
      try {
        const status = await request(`${after.url}${location}`);
        await status.body.dump();
        expect(status.statusCode).toBe(204);
        expect(status.headers.range).toBe(`0-${first.length - 1}`);
        const done = await request(`${after.url}${location}?digest=${digest}`, {
          method: 'PUT',
          body: second,
          headers: { 'content-range': `${first.length}-${first.length + second.length - 1}` },
        });
        await done.body.dump();
        expect(done.statusCode).toBe(201);
        const pulled = await request(`${after.url}/v2/restart/repo/blobs/${digest}`);
        expect(sha256(Buffer.from(await pulled.body.arrayBuffer()))).toBe(digest);
        expect(await readdir(path.join(rootdirectory, 'docker/registry/v2/repositories/restart/repo/_uploads'))).toEqual([]);
      } finally {
        await after.close();
      }
    } finally {
      await rm(rootdirectory, { recursive: true, force: true });
    }
  });
});
