/** `GET /v2/_catalog[?n=&last=]`: repositories in lexical order, 100 a page unless `n` says otherwise. */
import { CATALOG_DEFAULT_PAGE, type Page, type PageRequest } from '../registry/index.js';
import { sendJson, type Handler, type RequestContext } from './context.js';
import { pageRequest, setNextLink } from './pagination.js';

export const listCatalog: Handler = async (ctx) => {
  const request = pageRequest(ctx);
  const page = ctx.auth ? await pullableCatalog(ctx, request) : await ctx.registry.catalog(request);
  if (page.next !== undefined) setNextLink(ctx, '/v2/_catalog', request.n ?? CATALOG_DEFAULT_PAGE, page.next);
  sendJson(ctx.res, 200, { repositories: page.entries });
};

/** With authentication on, only the repositories the caller may pull: pages are read until `n` of those are found. */
async function pullableCatalog(ctx: RequestContext, request: PageRequest): Promise<Page> {
  const { gate, caller } = ctx.auth!;
  const limit = request.n ?? CATALOG_DEFAULT_PAGE;
  if (limit === 0) return ctx.registry.catalog(request);
  const entries: string[] = [];
  let last = request.last;
  for (;;) {
    const page = await ctx.registry.catalog({ n: limit, ...(last !== undefined ? { last } : {}) });
    for (const [index, name] of page.entries.entries()) {
      if (!gate.mayPull(caller, name)) continue;
      entries.push(name);
      const more = index + 1 < page.entries.length || page.next !== undefined;
      if (entries.length === limit) return more ? { entries, next: name } : { entries };
    }
    if (page.next === undefined) return { entries };
    last = page.next;
  }
}
