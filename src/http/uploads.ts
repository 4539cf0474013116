/**
 * Blob uploads: end-4a/4b (POST, monolithic POST ?digest=), end-11 (mount), end-5 (PATCH chunks or a
 * streamed body), end-6 (closing PUT ?digest=), end-13 (GET status) and DELETE (cancel).
 */
import type { IncomingMessage } from 'node:http';
import { disposablePieces, isValidName, RegistryError, type UploadStatus, withDeclaredLength } from '../registry/index.js';
import { location, query, sendEmpty, type Handler, type RequestContext } from './context.js';
import { HttpError } from './errors.js';
import { contentLength, parseContentRange } from './ranges.js';

const uploadPath = (name: string, id: string): string => `/v2/${name}/blobs/uploads/${id}`;

/** distribution's Range: `0-<last byte>`, and `0-0` for an empty upload */
const rangeHeader = (size: number): string => `0-${Math.max(size - 1, 0)}`;

function sendUploadStatus(ctx: RequestContext, status: number, upload: UploadStatus): void {
  sendEmpty(ctx.res, status, {
    Location: location(ctx, uploadPath(ctx.name, upload.id)),
    Range: rangeHeader(upload.size),
    'Docker-Upload-UUID': upload.id,
  });
}

function sendBlobCreated(ctx: RequestContext, digest: string): void {
  sendEmpty(ctx.res, 201, {
    Location: location(ctx, `/v2/${ctx.name}/blobs/${digest}`),
    'Docker-Content-Digest': digest,
  });
}

/**
 * A request's body: its pieces are the parser's fresh copies, which nothing else holds, so an upload may free
 * each once read; with the length the request declared, so the upload's writer knows where the body ends.
 */
const requestBody = (req: IncomingMessage, length?: number): AsyncIterable<Uint8Array> => withDeclaredLength(disposablePieces(req as AsyncIterable<Uint8Array>), length);

export const startUpload: Handler = async (ctx) => {
  const { registry, name, req } = ctx;
  const mount = query(ctx, 'mount');
  const from = query(ctx, 'from');
  if (mount !== undefined && mayMountFrom(ctx, from)) {
    const mounted = await registry.mountBlob(name, mount, from);
    if (mounted) {
      sendBlobCreated(ctx, mounted.digest);
      return;
    }
  }
  const digest = query(ctx, 'digest');
  if (digest !== undefined && mount === undefined) {
    const blob = await registry.pushBlob(name, digest, requestBody(req), query(ctx, 'digest-algorithm'));
    sendBlobCreated(ctx, blob.digest);
    return;
  }
  const upload = await registry.startUpload(name, query(ctx, 'digest-algorithm'));
  sendUploadStatus(ctx, 202, upload);
};

/**
 * A mount copies a blob the caller may not otherwise read: with authentication on, only from a repository
 * the caller may pull, and without `from` (any repository holding the digest) only when `auth.automount`
 * allows it. A refused mount is an ordinary upload (202), as distribution answers a mount it cannot do.
 */
function mayMountFrom(ctx: RequestContext, from: string | undefined): boolean {
  if (!ctx.auth) return true;
  if (from === undefined) return ctx.auth.gate.automount;
  return isValidName(from) && ctx.auth.gate.mayPull(ctx.auth.caller, from);
}

export const getUploadStatus: Handler = async (ctx) => {
  const upload = await ctx.registry.uploadStatus(ctx.name, ctx.reference);
  sendUploadStatus(ctx, 204, upload);
};

export const patchUpload: Handler = async (ctx) => {
  const { registry, name, reference, req } = ctx;
  const length = contentLength(req.headers['content-length']);
  const range = parseContentRange(req.headers['content-range'], length);
  try {
    const upload = await registry.appendUpload(name, reference, requestBody(req, length), range);
    sendUploadStatus(ctx, 202, upload);
  } catch (err) {
    throw await withUploadHeaders(ctx, err);
  }
};

export const putUpload: Handler = async (ctx) => {
  const { registry, name, reference, req } = ctx;
  const digest = query(ctx, 'digest');
  if (digest === undefined) {
    throw new RegistryError('DIGEST_INVALID', 'closing an upload needs the blob digest: PUT <location>?digest=<digest>');
  }
  const length = contentLength(req.headers['content-length']);
  const range = parseContentRange(req.headers['content-range'], length);
  try {
    const blob = await registry.finishUpload(name, reference, digest, requestBody(req, length), range);
    sendBlobCreated(ctx, blob.digest);
  } catch (err) {
    throw await withUploadHeaders(ctx, err);
  }
};

export const cancelUpload: Handler = async (ctx) => {
  await ctx.registry.cancelUpload(ctx.name, ctx.reference);
  sendEmpty(ctx.res, 204);
};

/** A refused chunk (416) tells the client where the upload stands, so it can resume. */
async function withUploadHeaders(ctx: RequestContext, err: unknown): Promise<unknown> {
  if (!(err instanceof RegistryError) || err.code !== 'RANGE_INVALID' || err instanceof HttpError) return err;
  const size = typeof err.detail?.size === 'number' ? err.detail.size : 0;
  return new HttpError(416, 'RANGE_INVALID', err.message, err.detail, {
    Location: location(ctx, uploadPath(ctx.name, ctx.reference)),
    Range: rangeHeader(size),
    'Docker-Upload-UUID': ctx.reference,
  });
}
