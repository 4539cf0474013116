/**
 * The answers of a refused request: 401 UNAUTHORIZED with a `WWW-Authenticate` challenge naming exactly the
 * scope the request needed (so a client can fetch the right token at once), or 403 DENIED when the caller is
 * known and more credentials would not help.
 */
import { HttpError } from '../http/errors.js';
import type { Action } from './access.js';

/** What a route requires of its caller (declared per route and method in src/http/router.ts). */
export type RouteAccess = 'base' | 'catalog' | 'pull' | 'push' | 'delete';

/** The actions a repository route needs: an upload needs pull as well as push, as in distribution. */
export function actionsFor(access: RouteAccess): readonly Action[] {
  if (access === 'push') return ['pull', 'push'];
  if (access === 'pull') return ['pull'];
  if (access === 'delete') return ['delete'];
  return [];
}

/** The token scope of a request: `repository:<name>:pull,push`, `registry:catalog:*`, or none for `/v2/`. */
export function scopeFor(access: RouteAccess, name: string): string | undefined {
  if (access === 'base') return undefined;
  if (access === 'catalog') return 'registry:catalog:*';
  return `repository:${name}:${actionsFor(access).join(',')}`;
}

export type Challenge =
  | { readonly scheme: 'Basic'; readonly realm: string }
  | { readonly scheme: 'Bearer'; readonly realm: string; readonly service: string };

const quoted = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

export function challengeHeader(challenge: Challenge, scope?: string, error?: 'invalid_token' | 'insufficient_scope'): string {
  if (challenge.scheme === 'Basic') return `Basic realm=${quoted(challenge.realm)}`;
  const params = [`realm=${quoted(challenge.realm)}`, `service=${quoted(challenge.service)}`];
  if (scope !== undefined) params.push(`scope=${quoted(scope)}`);
  if (error !== undefined) params.push(`error=${quoted(error)}`);
  return `Bearer ${params.join(',')}`;
}

export interface RefusalDetail {
  readonly access: RouteAccess;
  readonly name: string;
}

function detailOf({ access, name }: RefusalDetail): Record<string, unknown> {
  if (access === 'base') return {};
  if (access === 'catalog') return { type: 'registry', name: 'catalog', actions: ['*'] };
  return { type: 'repository', name, actions: actionsFor(access) };
}

export function unauthorized(
  challenge: Challenge | undefined,
  refused: RefusalDetail,
  message = 'authentication required',
  error?: 'invalid_token' | 'insufficient_scope',
): HttpError {
  const headers: Record<string, string> = challenge ? { 'WWW-Authenticate': challengeHeader(challenge, scopeFor(refused.access, refused.name), error) } : {};
  return new HttpError(401, 'UNAUTHORIZED', message, detailOf(refused), headers);
}

export function denied(refused: RefusalDetail): HttpError {
  const what = refused.access === 'catalog' ? 'the catalog' : refused.access === 'base' ? 'this registry' : `${actionsFor(refused.access).join(',')} on ${refused.name}`;
  return new HttpError(403, 'DENIED', `requested access to the resource is denied: ${what}`, detailOf(refused));
}
