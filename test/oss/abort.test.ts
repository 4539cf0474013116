/**
 * A client that disconnects stops the backend work of the object-store drivers (backend-kit's ObjectDriver
 * and HttpClient, here under the alioss plugin): the backend is a loopback server that holds every request
 * open, and each test waits for the backend to see the connection of the held request close.
 */
import { once } from 'node:events';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDriver } from '../../plugins/alioss/src/index.js';
import type { StorageDriver } from '../../src/storage/driver.js';
import { createDriverContext } from '../../src/testing/index.js';
import { startTestRegistry } from '../http/support/registry.js';

interface HeldRequest {
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  /** resolves when the backend sees the request's connection close */
  readonly closed: Promise<void>;
}

/** Answers a request the test does not want held; false to hold it. */
type Responder = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

/** A backend that holds every request `respond` does not answer, until a test takes it. */
async function startHoldingBackend(respond: Responder = () => false) {
  const held: HeldRequest[] = [];
  const waiters: { match: (req: http.IncomingMessage) => boolean; resolve: (h: HeldRequest) => void }[] = [];
  const server = http.createServer((req, res) => {
    if (respond(req, res)) return;
    const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
    // the body is taken in (a paused socket would not notice the client leave), the reply never comes
    req.resume();
    const request = { req, res, closed };
    held.push(request);
    const waiter = waiters.find((w) => w.match(req));
    if (waiter) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(request);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    held,
    /** the first request (already held or still to come) whose URL contains `part` */
    request(part: string): Promise<HeldRequest> {
      const match = (req: http.IncomingMessage) => (req.url ?? '').includes(part);
      const already = held.find((h) => match(h.req));
      return already ? Promise.resolve(already) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

type Backend = Awaited<ReturnType<typeof startHoldingBackend>>;

let backend: Backend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

const CHUNK = 5 * 1024 * 1024;

function driverOn(port: number): StorageDriver {
  return createDriver(
    {
      accesskeyid: 'id', accesskeysecret: 'secret-of-the-test', bucket: 'held', region: 'oss-test', endpoint: `localhost:${port}`,
      secure: false, chunksize: CHUNK, retries: 3, retryinterval: 0.05,
    },
    createDriverContext('alioss'),
  ) as StorageDriver;
}

const isAbort = (err: unknown): boolean => (err as Error).name === 'AbortError';

describe('an object-store driver whose caller went away', () => {
  it('aborts the backend request of a registry request whose client disconnected', async () => {
    backend = await startHoldingBackend();
    const registry = await startTestRegistry({ driver: driverOn(backend.port) });
    let client: Socket | undefined;
    try {
      const hex = 'ab'.repeat(32);
      client = connect(Number(new URL(registry.url).port), '127.0.0.1');
      await once(client, 'connect');
      client.write(`HEAD /v2/gone/repo/blobs/sha256:${hex} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const held = await backend.request(hex);
      client.destroy();
      await held.closed;
      expect(held.res.headersSent).toBe(false);
    } finally {
      client?.destroy();
      await registry.close();
    }
  });

  it('rejects with the abort, not a storage failure, and tries no more', async () => {
    backend = await startHoldingBackend();
    const driver = driverOn(backend.port);
    try {
      const caller = new AbortController();
      const stat = driver.stat('/some/object', caller.signal);
      const held = await backend.request('/some/object');
      caller.abort();
      await expect(stat).rejects.toSatisfy(isAbort);
      await held.closed;
      expect(backend.held.map((h) => h.req.url)).toEqual([held.req.url]);
    } finally {
      await driver.close?.();
    }
  });

  it("ends a reader's backend download when the caller aborts mid-body", async () => {
    backend = await startHoldingBackend();
    const driver = driverOn(backend.port);
    try {
      const caller = new AbortController();
      const opening = driver.reader('/big/object', 0, caller.signal);
      const held = await backend.request('/big/object');
      held.res.writeHead(200, { 'content-length': String(4 * CHUNK), etag: '"v1"' });
      held.res.write(Buffer.alloc(64 * 1024));
      const stream = await opening;
      stream.on('error', () => undefined);
      await once(stream, 'readable');
      caller.abort();
      await held.closed;
      expect(held.res.writableEnded).toBe(false);
    } finally {
      await driver.close?.();
    }
  });

  it("aborts a writer's part upload when the caller aborts", async () => {
    // Everything but the part itself is answered: no upload state, an empty listing, the claim and the multipart start succeed.
    backend = await startHoldingBackend((req, res) => {
      const url = req.url ?? '';
      if (url.includes('partNumber=')) return false;
      req.resume();
      if (req.method === 'POST' && url.includes('?uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>held</Bucket><Key>up/data</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
      } else if (req.method === 'GET' && url.includes('prefix=')) {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>held</Name><IsTruncated>false</IsTruncated></ListBucketResult>');
      } else if (req.method === 'PUT') {
        res.writeHead(200, { etag: '"c"', 'content-length': '0' }).end();
      } else if (req.method === 'DELETE') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404, { 'content-length': '0' }).end();
      }
      return true;
    });
    const driver = driverOn(backend.port);
    try {
      const caller = new AbortController();
      const writer = await driver.writer('/up/data', false, caller.signal);
      // the first full part makes the writer claim its size, start a multipart upload, then send the part
      const writing = writer.write(Buffer.alloc(CHUNK), caller.signal);
      const part = await backend.request('partNumber=1');
      caller.abort();
      await expect(writing).rejects.toSatisfy(isAbort);
      await part.closed;
      expect(part.res.headersSent).toBe(false);
    } finally {
      await driver.close?.();
    }
  });
});
