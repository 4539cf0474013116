/**
 * What a hostile or broken client can do to the HTTP front before any handler runs, and the answer each
 * gets: request head checks (Host, URL length), a body that stops arriving, CONNECT, and telling a client
 * that went away from a failure worth an error log.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpError } from './errors.js';

/** Longest request target accepted (414 beyond); a name is at most 255 characters, a digest 135. */
export const MAX_URL_LENGTH = 8192;
/** Largest request head node parses (431 beyond); node's own default, set explicitly so docs/api.md can state it. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** `http.bodyidletimeout` when the config does not say */
export const DEFAULT_BODY_IDLE_MS = 60_000;

/** Refuses a request head a registry should not act on: a missing or repeated Host, an overlong URL. */
export function checkRequestHead(req: IncomingMessage): void {
  const url = req.url ?? '';
  if (url.length > MAX_URL_LENGTH) {
    throw new HttpError(414, 'UNSUPPORTED', `request URL is ${url.length} bytes, more than the ${MAX_URL_LENGTH} accepted`, { limit: MAX_URL_LENGTH });
  }
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  // HTTP/1.1 requires exactly one Host (RFC 9112 3.2); two disagreeing ones are a classic smuggling vector
  if (hosts > 1) throw new HttpError(400, 'UNSUPPORTED', 'a request must carry exactly one Host header, this one has several');
  if (hosts === 0 && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
    throw new HttpError(400, 'UNSUPPORTED', 'an HTTP/1.1 request must carry a Host header');
  }
}

/**
 * Cuts a request whose body stops arriving: when for `idleMs` the socket has received nothing while
 * everything it did receive has been consumed (so the wait is the client's, not a slow backend's
 * backpressure), the request is destroyed. The handler's read fails, and an upload keeps what was
 * written before (resumable). Returns the function that stops watching.
 */
export function watchBodyIdle(req: IncomingMessage, idleMs: number): () => void {
  // a request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3): no timer per GET
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (!(idleMs > 0) || req.complete || !hasBody) return stopNothing;
  const socket = req.socket;
  let lastBytes = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || req.destroyed) {
      clearInterval(timer);
      return;
    }
    const bytes = socket.bytesRead;
    const waitingForClient = bytes === lastBytes && req.readableLength === 0;
    lastBytes = bytes;
    if (!waitingForClient) return;
    clearInterval(timer);
    req.destroy(new BodyIdleError(idleMs));
  }, idleMs);
  timer.unref();
  return () => clearInterval(timer);
}

const stopNothing = (): void => undefined;

export class BodyIdleError extends Error {
  readonly code = 'BODY_IDLE';
  constructor(readonly idleMs: number) {
    super(`the request body sent nothing for ${idleMs} ms (http.bodyidletimeout)`);
  }
}

/**
 * Whether a failure is the client going away (closed connection, reset, body cut by the idle timer): worth
 * a debug line, not an error with a stack, and there is nobody to answer.
 */
export function isClientGone(req: IncomingMessage, err: unknown): boolean {
  if (err instanceof BodyIdleError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') return true;
  return req.destroyed && !req.complete && (err as Error | null)?.message === 'aborted';
}

/** CONNECT asks a registry to be a proxy: answered with OCI error JSON (405), never left hanging. */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'CONNECT is not supported: this is a registry, not a proxy' }] });
  socket.on('error', () => socket.destroy());
  socket.end(
    'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE\r\n' +
      'Docker-Distribution-API-Version: registry/2.0\r\n' +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
