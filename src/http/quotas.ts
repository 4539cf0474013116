/** `GET /v2/_stowage/quotas`: every namespace with a byte quota, its limit and what it holds now. */
import { sendJson, type Handler } from './context.js';

export const listQuotas: Handler = async (ctx) => {
  const quotas = await ctx.registry.quotaUsage();
  sendJson(ctx.res, 200, { quotas: quotas.map(({ namespace, limitBytes, usedBytes, blobs }) => ({ namespace, limitBytes, usedBytes, blobs })) });
};
