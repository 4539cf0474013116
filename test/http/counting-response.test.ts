import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingResponse } from '../../src/http/counting-response.js';

// Each path answers its body a different way; what the response counted is read once it has closed.
const answers: Record<string, (res: CountingResponse) => void | Promise<void>> = {
  '/end-string': (res) => void res.end('größe'),
  '/writes': (res) => {
    res.write(Buffer.alloc(1000, 1));
    res.write(new Uint8Array(24));
    res.end();
  },
  '/piped': (res) => pipeline(Readable.from([Buffer.alloc(70_000, 2), Buffer.alloc(5, 3)]), res),
  '/end-callback': (res) => {
    res.write('abc');
    res.end(() => undefined);
  },
};

describe('the server response counting its body bytes', () => {
  let server: http.Server;
  let base: string;
  const counted = new Map<string, number>();
  const closed = new Map<string, Promise<void>>();

  beforeAll(async () => {
    server = http.createServer({ ServerResponse: CountingResponse }, (req, res) => {
      const key = `${req.method} ${req.url}`;
      closed.set(
        key,
        once(res, 'close').then(() => void counted.set(key, res.bodyBytesOut)),
      );
      void answers[req.url ?? '']?.(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function countOf(method: 'GET' | 'HEAD', path: string): Promise<{ counted: number; received: number }> {
    const response = await request(`${base}${path}`, { method });
    const received = (await response.body.arrayBuffer()).byteLength;
    await closed.get(`${method} ${path}`);
    return { counted: counted.get(`${method} ${path}`)!, received };
  }

  it('counts what end is given, in bytes rather than characters', async () => {
    expect(await countOf('GET', '/end-string')).toEqual({ counted: Buffer.byteLength('größe'), received: Buffer.byteLength('größe') });
  });

  it('adds up every write before the end', async () => {
    expect(await countOf('GET', '/writes')).toEqual({ counted: 1024, received: 1024 });
  });

  it('counts a body piped into it', async () => {
    expect(await countOf('GET', '/piped')).toEqual({ counted: 70_005, received: 70_005 });
  });

  it('counts the writes before an end given only a callback', async () => {
    expect(await countOf('GET', '/end-callback')).toEqual({ counted: 3, received: 3 });
  });

  it('counts nothing for HEAD, whose body node does not send', async () => {
    expect(await countOf('HEAD', '/writes')).toEqual({ counted: 0, received: 0 });
  });
});
