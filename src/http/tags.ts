/** end-8a/8b: `GET /v2/<name>/tags/list[?n=&last=]`. */
import { sendJson, type Handler } from './context.js';
import { pageRequest, setNextLink } from './pagination.js';

export const listTags: Handler = async (ctx) => {
  const request = pageRequest(ctx);
  const page = await ctx.registry.listTags(ctx.name, request);
  if (page.next !== undefined && request.n !== undefined) setNextLink(ctx, `/v2/${ctx.name}/tags/list`, request.n, page.next);
  sendJson(ctx.res, 200, { name: ctx.name, tags: page.entries });
};
