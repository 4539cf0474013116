/**
 * One request and its response as the operational hooks (access log, metrics, notifications, CORS, health)
 * see it: the route it matched, the bytes that went each way, the request id. The HTTP server creates one
 * per request and calls each hook at three points; the hooks live in src/ops and src/notifications.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { byteLength, type CountingResponse } from './counting-response.js';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** process.hrtime.bigint() when the request arrived */
  readonly startedAt: bigint;
  /** echoed in `X-Request-Id`: the client's own when it sent a sane one, a fresh UUID otherwise */
  readonly requestId: string;
  /** the matched route's pattern (`/v2/<name>/blobs/<digest>`); undefined for paths no route takes */
  route?: string;
  /** repository name, when the route has one */
  repository?: string;
  /** digest, tag or upload id of the route, when it has one */
  reference?: string;
  /** the authenticated caller (htpasswd user, token subject, client certificate CN), when auth is on */
  user?: string;
  /** request body bytes received so far */
  readonly bytesIn: number;
  /** response body bytes sent so far (headers not counted; nothing for HEAD) */
  readonly bytesOut: number;
}

export interface HttpHook {
  /** Before routing. A hook that answers the request itself (ends `res`) stops it there. */
  onRequest?(exchange: Exchange): void;
  /** Once the route is known, before its handler runs. Ending `res` here also stops the request. */
  onRoute?(exchange: Exchange): void;
  /** Once the response has been sent, or the connection closed before that. */
  onResponse?(exchange: Exchange): void;
}

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** an incoming id is kept only when it cannot break a log line or a header: short, printable, no spaces */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Starts the bookkeeping of one request: its id (set on the response at once) and byte counters. */
export function beginExchange(req: IncomingMessage, res: CountingResponse): Exchange {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, requestId);
  const exchange = new RequestExchange(req, res, requestId);
  // Counting without consuming, through the stream's public API: a paused stream emits 'data' for every
  // chunk its consumer takes (read(), async iteration, pipe), and a 'data' listener added while it is paused
  // does not switch it to flowing mode, so the handler still reads the body at its own pace. Bodies nobody
  // reads are drained by node at the response's end, in flowing mode, and counted then.
  req.pause();
  req.on('data', (chunk: unknown) => {
    exchange.bytesIn += byteLength(chunk);
  });
  return exchange;
}

/** The response side is counted by the response itself (counting-response.ts), which has no event per chunk. */
class RequestExchange implements Exchange {
  readonly startedAt = process.hrtime.bigint();
  route?: string;
  repository?: string;
  reference?: string;
  user?: string;
  bytesIn = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: CountingResponse,
    readonly requestId: string,
  ) {}

  get bytesOut(): number {
    return this.res.bodyBytesOut;
  }
}

/** Calls `name` on each hook in order until one of them has answered the request; true when one did. */
export function runHooks(hooks: readonly HttpHook[], name: 'onRequest' | 'onRoute', exchange: Exchange): boolean {
  for (const hook of hooks) {
    hook[name]?.(exchange);
    if (exchange.res.writableEnded) return true;
  }
  return false;
}

/** The time since the request arrived, in seconds. */
export const elapsedSeconds = (exchange: Exchange): number => Number(process.hrtime.bigint() - exchange.startedAt) / 1e9;
