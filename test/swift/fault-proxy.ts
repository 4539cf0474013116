/**
 * A fault-injecting HTTP proxy for loopback tests: it forwards requests to a backend unchanged (Host
 * header included, so S3 signatures still verify) unless a rule matches, and then it misbehaves the
 * way networks and overloaded clusters do: answers 503 itself, cuts the connection in the middle of
 * the request or the response body, stalls, or flips a byte of the request body on its way.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** answer this status without asking the backend (503 unless given) */
  | { kind: 'status'; status?: number }
  /** forward the request but cut both connections after this many bytes of the request body */
  | { kind: 'dropRequest'; afterBytes: number }
  /** pass the backend's status, headers and this many body bytes, then cut the connection */
  | { kind: 'dropResponse'; afterBytes: number }
  /** wait this long before forwarding (a stalled backend) */
  | { kind: 'stall'; ms: number }
  /** forward the request with one byte of its body changed */
  | { kind: 'corruptRequest'; atByte: number };

export interface FaultRule {
  readonly method?: string;
  /** matched against the request's path and query */
  readonly path?: RegExp;
  readonly fault: Fault;
  /** how many matching requests get the fault (Infinity: all) */
  times: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly port: number;
  /** the faults injected so far, as `METHOD path kind` */
  readonly injected: string[];
  /** adds a rule; rules are tried in the order they were added */
  inject(rule: Omit<FaultRule, 'times'> & { times?: number }): void;
  clear(): void;
  /** stops listening and cuts every connection: the backend is gone, as if its host were down */
  unreachable(): Promise<void>;
  /** listens again on the same port */
  reachable(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(backend: { host: string; port: number }): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const injected: string[] = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const target = req.url ?? '/';
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === req.method) && (!r.path || r.path.test(target)));
    const fault = rule?.fault;
    if (rule) {
      rule.times -= 1;
      injected.push(`${req.method} ${target} ${fault!.kind}`);
    }
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status ?? 503, { 'content-type': 'text/plain', connection: 'close' }).end('injected fault\n');
      return;
    }
    const forward = (): void => {
      const upstream = http.request({ host: backend.host, port: backend.port, method: req.method, path: target, headers: req.headers });
      upstream.on('response', (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        if (fault?.kind !== 'dropResponse') {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return;
          const room = fault.afterBytes - sent;
          res.write(chunk.subarray(0, room));
          sent += Math.min(room, chunk.length);
          if (sent >= fault.afterBytes) {
            answer.destroy();
            // flush what was written, then cut the client off mid-body
            setTimeout(() => req.socket.destroy(), 20);
          }
        });
      });
      upstream.on('error', () => req.socket.destroy());
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        if (fault?.kind === 'dropRequest' && seen + chunk.length > fault.afterBytes) {
          upstream.write(chunk.subarray(0, Math.max(0, fault.afterBytes - seen)));
          upstream.destroy();
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'corruptRequest' && fault.atByte >= seen && fault.atByte < seen + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[fault.atByte - seen] ^= 0xff;
        }
        seen += chunk.length;
        upstream.write(chunk);
      });
      req.on('end', () => upstream.end());
    };
    if (fault?.kind === 'stall') setTimeout(forward, fault.ms);
    else forward();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    injected,
    inject: (rule) => rules.push({ ...rule, times: rule.times ?? 1 }),
    clear: () => void rules.splice(0),
    unreachable: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    reachable: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
