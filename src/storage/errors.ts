/**
 * Storage errors, recognised by `code` so that errors built by a plugin's own copy of these helpers
 * (or by `context.errors`) are understood the same way as stowage's own.
 */
import type { DriverErrorFactory } from './driver.js';

export type StorageErrorCode = 'PATH_NOT_FOUND' | 'INVALID_PATH' | 'INVALID_OFFSET' | 'UNSUPPORTED' | 'STORAGE_FAILED';

export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    readonly details: { driver?: string; path?: string; offset?: number; operation?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StorageError';
  }
}

export function storageErrorCode(err: unknown): StorageErrorCode | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'PATH_NOT_FOUND':
    case 'INVALID_PATH':
    case 'INVALID_OFFSET':
    case 'UNSUPPORTED':
    case 'STORAGE_FAILED':
      return code;
    default:
      return undefined;
  }
}

export const isPathNotFound = (err: unknown): boolean => storageErrorCode(err) === 'PATH_NOT_FOUND';

/** What `call` resolves to, or undefined where it fails with PATH_NOT_FOUND: for questions whose answer may be "not there". */
export async function undefinedIfNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if (isPathNotFound(err)) return undefined;
    throw err;
  }
}

/** The error a call rejects with because its signal aborted (the client went away), not because storage failed. */
export const isAbortError = (err: unknown): boolean => (err as { name?: unknown } | null)?.name === 'AbortError';

export function driverErrors(driver: string): DriverErrorFactory {
  return {
    pathNotFound: (path) => new StorageError('PATH_NOT_FOUND', `${driver}: path not found: ${path}`, { driver, path }),
    invalidPath: (path) => new StorageError('INVALID_PATH', `${driver}: invalid path: ${JSON.stringify(path)}`, { driver, path }),
    invalidOffset: (path, offset) =>
      new StorageError('INVALID_OFFSET', `${driver}: invalid offset ${offset} for ${path}`, { driver, path, offset }),
    unsupported: (operation) => new StorageError('UNSUPPORTED', `${driver}: ${operation} is not supported`, { driver, operation }),
    storageFailed: (message, cause) =>
      new StorageError('STORAGE_FAILED', `${driver}: ${message}`, { driver }, cause === undefined ? undefined : { cause }),
  };
}
