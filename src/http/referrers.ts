/** end-12a/12b: `GET /v2/<name>/referrers/<digest>[?artifactType=]`, always an image index. */
import { query, sendJson, type Handler } from './context.js';

export const listReferrers: Handler = async (ctx) => {
  const artifactType = query(ctx, 'artifactType');
  const index = await ctx.registry.listReferrers(ctx.name, ctx.reference, artifactType);
  if (artifactType !== undefined) ctx.res.setHeader('OCI-Filters-Applied', 'artifactType');
  sendJson(ctx.res, 200, index, index.mediaType);
};
