/** end-1: `GET /v2/`, the API version check. */
import { sendJson, type Handler } from './context.js';

export const getBase: Handler = async (ctx) => {
  sendJson(ctx.res, 200, {});
};
