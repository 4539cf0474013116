/** `GET /v2/_catalog[?n=&last=]`: repositories in lexical order, 100 a page unless `n` says otherwise. */
import { CATALOG_DEFAULT_PAGE } from '../registry/index.js';
import { sendJson, type Handler } from './context.js';
import { pageRequest, setNextLink } from './pagination.js';

export const listCatalog: Handler = async (ctx) => {
  const request = pageRequest(ctx);
  const page = await ctx.registry.catalog(request);
  if (page.next !== undefined) setNextLink(ctx, '/v2/_catalog', request.n ?? CATALOG_DEFAULT_PAGE, page.next);
  sendJson(ctx.res, 200, { repositories: page.entries });
};
