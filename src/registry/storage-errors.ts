/**
 * The registry boundary for storage errors: what the driver reports becomes a RegistryError, so the HTTP
 * layer maps registry codes only and never learns the storage contract's.
 */
import { isAbortError, storageErrorCode } from '../storage/errors.js';
import { RegistryError } from './errors.js';

/**
 * `err` as the registry reports it. `vanished` is the error for content that disappeared during the
 * operation (PATH_NOT_FOUND after the registry found it: a concurrent delete), e.g. BLOB_UNKNOWN.
 */
export function registryErrorOf(err: unknown, vanished?: () => RegistryError): unknown {
  if (err instanceof RegistryError || isAbortError(err)) return err;
  const code = storageErrorCode(err);
  if (code === undefined) return err;
  if (code === 'PATH_NOT_FOUND' && vanished) return withCause(vanished(), err);
  if (code === 'STORAGE_FAILED') {
    // The backend is down or refusing after the driver's own retries: a client may try again later (503,
    // distribution's UNAVAILABLE). The backend's message stays in the cause, for the log: it can name hosts
    // and paths the client has no business seeing.
    return new RegistryError('UNAVAILABLE', 'storage backend unavailable, try again later', undefined, { cause: err });
  }
  return new RegistryError('UNKNOWN', `storage backend failed (${code})`, undefined, { cause: err });
}

function withCause(error: RegistryError, cause: unknown): RegistryError {
  return new RegistryError(error.code, error.message, error.detail, { cause });
}
