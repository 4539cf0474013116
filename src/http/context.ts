/** What every resource handler receives, and the response helpers they share. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthGate, Caller } from '../auth/index.js';
import type { HttpConfig } from '../config/types.js';
import type { Registry } from '../registry/index.js';
import type { RegistryLogger } from '../registry/logger.js';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly registry: Registry;
  readonly logger: RegistryLogger;
  readonly http: HttpConfig;
  /** repository name, when the route has one */
  readonly name: string;
  /** the last path segment (digest, tag or upload id), percent-decoded */
  readonly reference: string;
  /** the auth gate and who passed it; absent when no authentication is configured */
  readonly auth?: { readonly gate: AuthGate; readonly caller: Caller };
}

export type Handler = (ctx: RequestContext) => Promise<void>;

/**
 * The context the server gives each handler. A class, so that the lazily parsed URL is a getter on its
 * prototype: an object literal with a getter gives V8 a fresh accessor per request, and the hidden class
 * made for it keeps the getter's closure (and so the whole request: socket buffers, response, registry
 * view) alive through every young-generation collection until the next mark-compact (docs/bench.md,
 * "Manifest GET tail, fourth pass").
 */
export class HandlerContext implements RequestContext {
  readonly auth?: { readonly gate: AuthGate; readonly caller: Caller };

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** parses the request's URL, once: most handlers never read it */
    private readonly parseUrl: () => URL,
    readonly registry: Registry,
    readonly logger: RegistryLogger,
    readonly http: HttpConfig,
    readonly name: string,
    readonly reference: string,
    auth: { readonly gate: AuthGate; readonly caller: Caller } | undefined,
  ) {
    if (auth) this.auth = auth;
  }

  get url(): URL {
    return this.parseUrl();
  }
}

/** A URL for `path` (which starts with `/v2/`): absolute under http.host when configured, else relative. */
export function location(ctx: RequestContext, path: string): string {
  const prefix = ctx.http.prefix.replace(/\/+$/, '');
  const host = ctx.http.relativeurls ? undefined : ctx.http.host?.replace(/\/+$/, '');
  return `${host ?? ''}${prefix}${path}`;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, contentType = 'application/json; charset=utf-8'): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Readonly<Record<string, string | number>> = {}): void {
  res.statusCode = status;
  for (const [header, value] of Object.entries(headers)) res.setHeader(header, value);
  res.setHeader('Content-Length', 0);
  res.end();
}

/** A query parameter, or undefined when absent (an empty value counts as given). */
export const query = (ctx: RequestContext, key: string): string | undefined => ctx.url.searchParams.get(key) ?? undefined;

/** Whether the client already holds the content named by `digest` (If-None-Match with its ETag): answer 304. */
export function notModified(ctx: RequestContext, digest: string): boolean {
  const header = ctx.req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => {
    const value = tag.trim().replace(/^W\//, '');
    return value === '*' || value === `"${digest}"`;
  });
}
