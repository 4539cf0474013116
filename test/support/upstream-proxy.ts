/**
 * A loopback HTTP proxy in front of an upstream registry, for the mirroring tests: it records every request
 * it forwards (so a test counts what reached the upstream), and on demand holds a response body after some
 * bytes until released, cuts a response's connection after some bytes (the upstream dying mid-blob), or
 * drops every connection (the upstream down). Headers, Host included, pass unchanged, so a token realm the
 * upstream derives from Host points back through the proxy.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardedRequest {
  readonly method: string;
  readonly path: string;
}

export interface HeldBody {
  /** resolves once the held response has sent its first `bytes` bytes */
  readonly reached: Promise<void>;
  /** lets the rest through */
  release(): void;
}

export interface UpstreamProxy {
  readonly url: string;
  readonly host: string;
  /** every request forwarded, in order of arrival */
  readonly requests: readonly ForwardedRequest[];
  /** how many requests with this method had a path matching `path` */
  count(method: string, path: RegExp): number;
  /** the next response to a request matching `path` stops after `bytes` body bytes until released */
  holdAfter(path: RegExp, bytes: number): HeldBody;
  /** the next response to a request matching `path` has its connection cut after `bytes` body bytes */
  cutAfter(path: RegExp, bytes: number): void;
  /** the next response to a request matching `path` has the byte at offset `bytes` flipped (same length, wrong digest) */
  corruptAt(path: RegExp, bytes: number): void;
  /** while down, every connection is closed at once, as when the upstream is gone */
  setDown(down: boolean): void;
  close(): Promise<void>;
}

interface Rule {
  readonly path: RegExp;
  readonly bytes: number;
  readonly kind: 'hold' | 'cut' | 'corrupt';
  readonly gate?: { reached: () => void; released: Promise<void> };
}

export async function startUpstreamProxy(target: string): Promise<UpstreamProxy> {
  const upstream = new URL(target);
  const requests: ForwardedRequest[] = [];
  const rules: Rule[] = [];
  let down = false;

  const server = http.createServer((req, res) => {
    if (down) {
      req.socket.destroy();
      return;
    }
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path });
    const index = rules.findIndex((rule) => rule.path.test(path) && req.method === 'GET');
    const rule = index >= 0 ? rules.splice(index, 1)[0] : undefined;
    const outgoing = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      if (!rule) {
        reply.pipe(res);
        return;
      }
      void relay(reply, res, rule);
    });
    outgoing.on('error', () => res.destroy());
    req.pipe(outgoing);
  });
  server.on('connection', (socket) => {
    if (down) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)).length,
    holdAfter(path, bytes) {
      let reached!: () => void;
      let release!: () => void;
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      rules.push({ path, bytes, kind: 'hold', gate: { reached, released } });
      return { reached: reachedPromise, release };
    },
    cutAfter(path, bytes) {
      rules.push({ path, bytes, kind: 'cut' });
    },
    corruptAt(path, bytes) {
      rules.push({ path, bytes, kind: 'corrupt' });
    },
    setDown(value) {
      down = value;
      if (value) server.closeAllConnections();
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** Copies `reply` to `res`, stopping after `rule.bytes` bytes to wait for a release or to cut the connection. */
async function relay(reply: http.IncomingMessage, res: http.ServerResponse, rule: Rule): Promise<void> {
  let sent = 0;
  let stopped = false;
  for await (const chunk of reply) {
    const bytes = chunk as Buffer;
    if (!stopped && sent + bytes.length >= rule.bytes) {
      const head = bytes.subarray(0, rule.bytes - sent);
      if (head.length > 0) await write(res, head);
      sent += head.length;
      stopped = true;
      if (rule.kind === 'corrupt') {
        const tail = Buffer.from(bytes.subarray(head.length));
        if (tail.length > 0) tail[0]! ^= 0xff;
        if (tail.length > 0) await write(res, tail);
        sent += tail.length;
        continue;
      }
      if (rule.kind === 'cut') {
        res.socket?.destroy();
        reply.destroy();
        return;
      }
      rule.gate!.reached();
      await rule.gate!.released;
      const tail = bytes.subarray(head.length);
      if (tail.length > 0) await write(res, tail);
      sent += tail.length;
      continue;
    }
    await write(res, bytes);
    sent += bytes.length;
  }
  res.end();
}

const write = (res: http.ServerResponse, bytes: Buffer): Promise<void> =>
  new Promise((resolve, reject) => res.write(bytes, (err) => (err ? reject(err) : resolve())));
