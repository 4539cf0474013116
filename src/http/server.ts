/** The HTTP front of the registry: node:http, raw streaming bodies, OCI error JSON for every failure. */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AuthGate } from '../auth/index.js';
import type { HttpConfig } from '../config/types.js';
import type { Registry } from '../registry/index.js';
import type { RegistryLogger } from '../registry/logger.js';
import { parseDurationMs } from '../registry/duration.js';
import { HandlerContext } from './context.js';
import { HttpError, sendError } from './errors.js';
import { checkRequestHead, DEFAULT_BODY_IDLE_MS, isClientGone, MAX_HEADER_BYTES, refuseConnect, watchBodyIdle } from './limits.js';
import { CountingResponse } from './counting-response.js';
import { beginExchange, elapsedSeconds, runHooks, type HttpHook } from './exchange.js';
import { parseRequestTarget } from './request-path.js';
import { route } from './router.js';
import { tlsServerOptions } from './tls.js';

export interface HttpServerOptions {
  readonly registry: Registry;
  readonly logger: RegistryLogger;
  readonly http: HttpConfig;
  /** authentication and authorization; absent: every request is admitted */
  readonly auth?: AuthGate;
  /** observers and gates called around every request (src/http/exchange.ts), in order */
  readonly hooks?: readonly HttpHook[];
}

export function createHttpServer(options: HttpServerOptions): http.Server {
  const { registry, logger } = options;
  const config = options.http;
  const prefix = config.prefix.replace(/\/+$/, '');
  const bodyIdleMs = config.bodyidletimeout === undefined ? DEFAULT_BODY_IDLE_MS : parseDurationMs(config.bodyidletimeout);

  const hooks = options.hooks ?? [];
  const handle: http.RequestListener<typeof http.IncomingMessage, typeof CountingResponse> = async (req, res) => {
    // A client that goes away before its response is complete aborts the storage work done for it. The
    // controller is made when storage work first asks for its signal: most GETs of a manifest do none.
    let aborter: AbortController | undefined;
    let clientGone = false;
    res.once('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      aborter?.abort();
    });
    const requestSignal = (): AbortSignal => {
      if (!aborter) {
        aborter = new AbortController();
        // Every storage call in flight for the request listens to it (a backend client adds one listener per
        // request it has out, and a page checks dozens of folders at once); the signal lives only as long as
        // the request, so more listeners than Node's default of 10 are not a leak to warn about.
        setMaxListeners(0, aborter.signal);
        if (clientGone) aborter.abort();
      }
      return aborter.signal;
    };
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    for (const [header, value] of Object.entries(config.headers)) res.setHeader(header, value);
    const exchange = beginExchange(req, res);
    res.once('close', () => {
      for (const hook of hooks) {
        try {
          hook.onResponse?.(exchange);
        } catch (err) {
          // an observer's failure must not take the server down with it
          logger.error({ err }, 'request observer failed');
        }
      }
    });
    const stopIdleWatch = watchBodyIdle(req, bodyIdleMs);
    try {
      checkRequestHead(req);
      if (runHooks(hooks, 'onRequest', exchange)) return;
      // routing runs on the path as sent, never on a resolved one (see request-path.ts)
      const target = parseRequestTarget(req.url ?? '/');
      // parsed when a handler reads its query: a GET of a manifest or blob has none to read
      let url: URL | undefined;
      const requestUrl = (): URL => (url ??= new URL(`${target.path}${target.query ? `?${target.query}` : ''}`, 'http://registry.invalid'));
      let path = target.path;
      if (options.auth?.issuer && path === options.auth.issuer.path) {
        await options.auth.issuer.server.handle(req, res, requestUrl());
        return;
      }
      if (prefix) {
        if (path !== prefix && !path.startsWith(`${prefix}/`)) throw notFound(path);
        path = path.slice(prefix.length) || '/';
      }
      const match = route(req.method ?? 'GET', path);
      if (match.kind === 'not-found') throw notFound(path);
      exchange.route = match.template;
      if (match.kind === 'handler') {
        exchange.repository = match.name || undefined;
        exchange.reference = match.reference || undefined;
      }
      if (runHooks(hooks, 'onRoute', exchange)) return;
      if (match.kind === 'method-not-allowed') {
        throw new HttpError(405, 'UNSUPPORTED', `${req.method} is not supported on ${path}`, { method: req.method }, { Allow: match.allow });
      }
      const gate = options.auth;
      const auth = gate ? { gate, caller: await gate.admit(req, match.access, match.name) } : undefined;
      if (auth?.caller.user !== undefined) exchange.user = auth.caller.user;
      const ctx = new HandlerContext(req, res, requestUrl, registry.forRequest(requestSignal), logger, config, match.name, match.reference, auth);
      await match.handler(ctx);
    } catch (err) {
      // an abort of this request's storage work (its client disconnected) is the client going away too
      if (isClientGone(req, err) || clientGone) {
        // nobody is left to answer, and a client hanging up is not the registry failing
        logger.debug({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code }, url: req.url }, 'client went away');
        res.destroy();
        return;
      }
      if (res.headersSent) logger.debug({ err, url: req.url }, 'response cut short');
      sendError(res, err, logger);
    } finally {
      stopIdleWatch();
      logger.debug({ method: req.method, url: req.url, status: res.statusCode, ms: elapsedMs(exchange) }, 'request');
    }
  };
  // https.Server is an http.Server over TLS: everything below applies to both
  // Host is checked by checkRequestHead, which answers in OCI error JSON rather than node's bare 400
  // the response class counts the body bytes sent, for the hooks (counting-response.ts says why a class)
  const serverOptions = { requireHostHeader: false, maxHeaderSize: MAX_HEADER_BYTES, ServerResponse: CountingResponse };
  const server: http.Server = config.tls
    ? https.createServer({ ...tlsServerOptions(config.tls), ...serverOptions }, handle)
    : http.createServer(serverOptions, handle);
  server.on('connect', refuseConnect);
  // requests node's parser refuses (bad Content-Length, oversized headers) still get OCI error JSON
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: tooLarge ? 'request headers too large' : 'malformed HTTP request' }] });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
        'Connection: close\r\nDocker-Distribution-API-Version: registry/2.0\r\n' +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  // multi-GiB uploads take longer than node's default 5-minute request limit
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  // Clients keep idle connections far longer than node's 5 s default (Go's transport: 90 s). A server that
  // closes first races the client's next request on that connection, and a blob PUT lost that way is not
  // retried by the client: keep idle connections for 75 s, as nginx does.
  server.keepAliveTimeout = 75_000;
  return server;
}

const elapsedMs = (exchange: Parameters<typeof elapsedSeconds>[0]): number => Math.round(elapsedSeconds(exchange) * 1000);

const notFound = (path: string): HttpError => new HttpError(404, 'UNSUPPORTED', `no API endpoint at ${path}`, { path });
