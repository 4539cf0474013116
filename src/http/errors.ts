/** OCI error JSON (`{"errors":[{code,message,detail}]}`) for every failure, with the status each code means. */
import type { ServerResponse } from 'node:http';
import { storageErrorCode } from '../storage/errors.js';
import { RegistryError, type RegistryErrorCode } from '../registry/errors.js';
import type { RegistryLogger } from '../registry/logger.js';

const STATUS: Readonly<Record<RegistryErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  TAG_INVALID: 400,
  UNAVAILABLE: 503,
  UNKNOWN: 500,
};

/** A failure with an explicit status, for the few cases where HTTP says more than the code (413, 404 route). */
export class HttpError extends RegistryError {
  constructor(
    readonly status: number,
    code: RegistryErrorCode,
    message: string,
    detail?: Readonly<Record<string, unknown>>,
    /** extra headers for the error response (Location and Range on a refused chunk, Allow on 405) */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message, detail);
  }
}

export interface ErrorResponse {
  readonly status: number;
  readonly body: { errors: { code: RegistryErrorCode; message: string; detail?: unknown }[] };
  readonly headers: Readonly<Record<string, string>>;
}

export function errorResponse(err: unknown, logger: RegistryLogger): ErrorResponse {
  if (err instanceof RegistryError) {
    const status = err instanceof HttpError ? err.status : STATUS[err.code];
    const headers = err instanceof HttpError ? err.headers : {};
    return { status, headers, body: { errors: [{ code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) }] } };
  }
  const storageCode = storageErrorCode(err);
  logger.error({ err, storageCode }, 'request failed');
  if (storageCode === 'STORAGE_FAILED') {
    // The backend is down or refusing after the driver's own retries: a client may try again later, so say
    // 503 (distribution's UNAVAILABLE) rather than a 500 that reads as a bug. The backend's message stays in
    // the log: it can name hosts and paths the client has no business seeing.
    return {
      status: STATUS.UNAVAILABLE,
      headers: { 'Retry-After': '5' },
      body: { errors: [{ code: 'UNAVAILABLE', message: 'storage backend unavailable, try again later' }] },
    };
  }
  const message = storageCode ? `storage backend failed (${storageCode})` : 'internal error';
  return { status: 500, headers: {}, body: { errors: [{ code: 'UNKNOWN', message }] } };
}

export function sendError(res: ServerResponse, err: unknown, logger: RegistryLogger): void {
  const { status, body, headers } = errorResponse(err, logger);
  if (res.headersSent) {
    // the body is already on its way: all that is left is to cut the connection so the client sees a failure
    res.destroy();
    return;
  }
  const json = JSON.stringify(body);
  for (const [header, value] of Object.entries(headers)) res.setHeader(header, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.statusCode = status;
  res.end(json);
}
