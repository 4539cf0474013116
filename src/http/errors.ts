/** OCI error JSON (`{"errors":[{code,message,detail}]}`) for every failure, with the status each code means. */
import type { ServerResponse } from 'node:http';
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

/** Storage errors arrive here already turned into RegistryErrors by the registry (src/registry/storage-errors.ts). */
export function errorResponse(err: unknown, logger: RegistryLogger): ErrorResponse {
  if (err instanceof RegistryError) {
    const status = err instanceof HttpError ? err.status : STATUS[err.code];
    // a server-side failure: the client gets the code, the log gets the cause (which may name hosts and paths)
    if (status >= 500) logger.error({ err, cause: err.cause }, 'request failed');
    // 503: the backend failed after the driver's retries, and a client may try again later
    const headers = err instanceof HttpError ? err.headers : err.code === 'UNAVAILABLE' ? { 'Retry-After': '5' } : {};
    return { status, headers, body: { errors: [{ code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) }] } };
  }
  logger.error({ err }, 'request failed');
  return { status: 500, headers: {}, body: { errors: [{ code: 'UNKNOWN', message: 'internal error' }] } };
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
