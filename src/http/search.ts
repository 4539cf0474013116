/**
 * Search, answered from the registry's search index (src/registry/search), listing only the
 * repositories the caller may pull:
 * - `GET /v1/search?q=&n=&page=`: what the docker daemon calls for `docker search <host>/<term>` (the
 *   registry v1 search API: `{num_results, num_pages, page, page_size, query, results: [{name, description,
 *   star_count, is_official, is_automated}]}`); `n` is the page size (default 25, at most 100), `page` from 1;
 * - `GET /v1/_ping`: the daemon pings the v1 endpoint before it searches;
 * - `GET /v2/_stowage/search?q=&n=&last=`: stowage's own, paged like the catalog (`n` default 100, at most
 *   1000, `last` the last name of the previous page, `Link` to the next): `{query, repositories: [{name, tags}]}`.
 */
import { CATALOG_DEFAULT_PAGE, CATALOG_MAX_ENTRIES } from '../registry/index.js';
import { location, query, sendJson, type Handler, type RequestContext } from './context.js';
import { HttpError } from './errors.js';
import { pageRequest } from './pagination.js';

export const V1_DEFAULT_PAGE_SIZE = 25;
export const V1_MAX_PAGE_SIZE = 100;
/** a term longer than any repository name can match nothing; refusing it keeps hostile input small */
const MAX_TERM_LENGTH = 255;

function termOf(ctx: RequestContext): string {
  const term = query(ctx, 'q') ?? '';
  if (term.length > MAX_TERM_LENGTH) throw new HttpError(400, 'UNSUPPORTED', `q must be at most ${MAX_TERM_LENGTH} characters`, { length: term.length });
  return term;
}

function positive(ctx: RequestContext, name: string, fallback: number, max: number): number {
  const raw = query(ctx, name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new HttpError(400, 'PAGINATION_NUMBER_INVALID', `${name} must be an integer from 1 to ${max}, not ${JSON.stringify(raw)}`, { [name]: raw });
  }
  return Number(raw);
}

const visibleTo = (ctx: RequestContext) => (name: string) => !ctx.auth || ctx.auth.gate.mayPull(ctx.auth.caller, name);

export const pingV1: Handler = async (ctx) => {
  ctx.res.setHeader('X-Docker-Registry-Standalone', 'true');
  sendJson(ctx.res, 200, {});
};

export const searchV1: Handler = async (ctx) => {
  const term = termOf(ctx);
  const pageSize = positive(ctx, 'n', V1_DEFAULT_PAGE_SIZE, V1_MAX_PAGE_SIZE);
  const page = positive(ctx, 'page', 1, 1e9);
  const hits = await ctx.registry.search(term, visibleTo(ctx));
  const shown = hits.slice((page - 1) * pageSize, page * pageSize);
  sendJson(ctx.res, 200, {
    num_results: hits.length,
    num_pages: Math.max(1, Math.ceil(hits.length / pageSize)),
    page,
    page_size: pageSize,
    query: term,
    results: shown.map((hit) => ({
      name: hit.name,
      description: hit.description ?? (hit.tags.length > 0 ? `tags: ${hit.tags.join(', ')}` : ''),
      star_count: 0,
      is_official: false,
      is_automated: false,
      is_trusted: false,
    })),
  });
};

export const searchV2: Handler = async (ctx) => {
  const term = termOf(ctx);
  const request = pageRequest(ctx);
  const limit = request.n ?? CATALOG_DEFAULT_PAGE;
  if (limit > CATALOG_MAX_ENTRIES) throw new HttpError(400, 'PAGINATION_NUMBER_INVALID', `n must be at most ${CATALOG_MAX_ENTRIES}`, { n: limit, max: CATALOG_MAX_ENTRIES });
  // one more than a page: whether another follows
  const hits = await ctx.registry.search(term, visibleTo(ctx), { ...(request.last !== undefined ? { after: request.last } : {}), limit: limit + 1 });
  const shown = hits.slice(0, limit);
  if (hits.length > limit && shown.length > 0) {
    const params = new URLSearchParams({ q: term, n: String(limit), last: shown.at(-1)!.name });
    ctx.res.setHeader('Link', `<${location(ctx, '/v2/_stowage/search')}?${params.toString()}>; rel="next"`);
  }
  sendJson(ctx.res, 200, { query: term, repositories: shown.map((hit) => ({ name: hit.name, tags: hit.tags, ...(hit.description !== undefined ? { description: hit.description } : {}) })) });
};
