/**
 * Domain errors of the registry, named by the OCI distribution spec's error codes (plus the few
 * distribution adds), so the HTTP layer can map each to its status without knowing the cause.
 */
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'TAG_INVALID'
  /** distribution's code for 503: the storage backend failed after its driver's retries */
  | 'UNAVAILABLE'
  | 'UNKNOWN';

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    /** machine-readable context for the client (the `detail` of the OCI error) */
    readonly detail?: Readonly<Record<string, unknown>>,
    /** `cause`: the storage error behind it, for the log */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

export const isRegistryError = (err: unknown): err is RegistryError => err instanceof RegistryError;
