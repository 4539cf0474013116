/** `n` and `last` from a listing request, and the `Link` header of the next page. */
import type { PageRequest } from '../registry/index.js';
import { HttpError } from './errors.js';
import { location, query, type RequestContext } from './context.js';

export function pageRequest(ctx: RequestContext): PageRequest {
  const n = query(ctx, 'n');
  const last = query(ctx, 'last');
  if (n !== undefined && !/^\d{1,9}$/.test(n)) {
    throw new HttpError(400, 'PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not ${JSON.stringify(n)}`, { n });
  }
  return { ...(n !== undefined ? { n: Number(n) } : {}), ...(last !== undefined ? { last } : {}) };
}

/** RFC 5988 `Link: <…?n=…&last=…>; rel="next"` */
export function setNextLink(ctx: RequestContext, path: string, limit: number, next: string): void {
  const params = new URLSearchParams({ n: String(limit), last: next });
  ctx.res.setHeader('Link', `<${location(ctx, path)}?${params.toString()}>; rel="next"`);
}
