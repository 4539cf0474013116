/**
 * The request target as the client sent it, split into path and query without any resolution.
 *
 * Routing runs on this raw path: resolving it first (as `new URL` does with `..`, `%2e%2e` and `\`) lets
 * `/v2/team-a/%2e%2e/team-b/app/...` reach team-b while a proxy in front, authorizing by path prefix, sees
 * team-a. distribution's router cleans the path and answers 301 to the cleaned one; stowage refuses such a
 * path outright with 400 NAME_INVALID, so no spelling of a path can name a repository other than its
 * literal one.
 */
import { HttpError } from './errors.js';

export interface RequestTarget {
  /** the path exactly as sent (percent-escapes kept), starting with `/` */
  readonly path: string;
  /** the query string without its `?` ('' when absent) */
  readonly query: string;
}

/** How many rounds of percent-decoding a segment gets when looking for a hidden dot segment or separator. */
const DECODE_ROUNDS = 4;

/**
 * Splits `rawTarget` (origin-form `/v2/...?q`, or absolute-form `http://host/v2/...`) and refuses any path
 * that a resolver could read as another path: a dot segment (`.`, `..`) in any percent-encoding (`%2e`,
 * `%2E`, `.%2e`, `%252e` ...), a backslash (raw or encoded) or an encoded slash.
 */
export function parseRequestTarget(rawTarget: string): RequestTarget {
  let target = rawTarget;
  const absolute = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
  if (absolute) target = target.slice(absolute[0].length) || '/';
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const mark = target.indexOf('?');
  const path = mark >= 0 ? target.slice(0, mark) : target;
  const query = mark >= 0 ? target.slice(mark + 1) : '';
  if (!path.startsWith('/')) throw invalidPath(path, 'the request path must start with /');
  checkSegments(path);
  return { path, query };
}

function checkSegments(path: string): void {
  for (const segment of path.split('/')) {
    const forms = decodedForms(segment);
    if (forms.some((form) => form.includes('\\'))) throw invalidPath(path, 'a backslash is not allowed in a request path');
    // the raw segment holds no '/', so a decoded one that does came from an encoded slash
    if (forms.some((form) => form.includes('/'))) throw invalidPath(path, 'an encoded slash is not allowed in a request path');
    if (forms.some((form) => form === '.' || form === '..')) throw invalidPath(path, 'dot segments (. and ..) are not allowed in a request path');
  }
}

/** The segment and each successive percent-decoding of it, until nothing changes or it stops decoding. */
function decodedForms(segment: string): string[] {
  const forms = [segment];
  let current = segment;
  for (let round = 0; round < DECODE_ROUNDS && current.includes('%'); round++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      // a malformed escape decodes no further; what remains is checked as it is
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

const invalidPath = (path: string, message: string): HttpError =>
  new HttpError(400, 'NAME_INVALID', message, { path: path.length > 256 ? `${path.slice(0, 256)}…` : path });
