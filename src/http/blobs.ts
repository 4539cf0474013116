/** end-2 (GET/HEAD a blob, with Range) and end-10 (DELETE a blob). */
import { sendBlobBody } from './blob-body.js';
import { notModified, sendEmpty, type Handler } from './context.js';
import { parseRange } from './ranges.js';

export const getBlob: Handler = async (ctx) => {
  const { registry, req, res, name, reference } = ctx;
  const head = req.method === 'HEAD';
  const blob = await registry.statBlob(name, reference, { forHead: head });
  res.setHeader('Docker-Content-Digest', blob.digest);
  res.setHeader('ETag', `"${blob.digest}"`);
  res.setHeader('Cache-Control', 'max-age=31536000');
  res.setHeader('Accept-Ranges', 'bytes');

  if (notModified(ctx, blob.digest)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  if (!head) {
    const redirect = await registry.blobRedirectURL(blob.digest, 'GET');
    if (redirect) {
      sendEmpty(res, 307, { Location: redirect });
      return;
    }
  }

  const range = parseRange(req.headers.range, blob.size);
  const start = range?.start ?? 0;
  const length = range ? range.end - range.start + 1 : blob.size;
  res.statusCode = range ? 206 : 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', length);
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
  if (head || length === 0) {
    res.end();
    return;
  }
  const source = await registry.readBlob(blob.digest, start);
  await sendBlobBody(res, source, start, length, range !== undefined);
};

export const deleteBlob: Handler = async (ctx) => {
  await ctx.registry.deleteBlob(ctx.name, ctx.reference);
  sendEmpty(ctx.res, 202);
};
