import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../src/http/errors.js';
import { RegistryError } from '../../src/registry/errors.js';
import { registryErrorOf } from '../../src/registry/storage-errors.js';
import { StorageError } from '../../src/storage/errors.js';

const logged: unknown[] = [];
const logger = { error: (...args: unknown[]) => logged.push(args), warn: () => undefined, info: () => undefined, debug: () => undefined };

describe('error responses', () => {
  it('answers a storage backend failure, as the registry reports it, with 503 UNAVAILABLE and keeps the backend message out of the body', () => {
    const failure = new StorageError('STORAGE_FAILED', 'swift: PUT http://10.0.0.7:8080/v1/AUTH_x/c/o failed after 6 attempt(s): 503');
    const response = errorResponse(registryErrorOf(failure), logger as never);
    expect(response.status).toBe(503);
    expect(response.headers['Retry-After']).toMatch(/^\d+$/);
    expect(response.body.errors).toEqual([{ code: 'UNAVAILABLE', message: expect.any(String) }]);
    expect(JSON.stringify(response.body)).not.toContain('10.0.0.7');
    // the log keeps the backend's own error, message and all
    expect((logged.at(-1) as [{ cause: unknown }])[0].cause).toBe(failure);
  });

  it('the registry recognises a plugin-made failure by its code alone', () => {
    const failure = Object.assign(new Error('ufile: GET k failed'), { code: 'STORAGE_FAILED' });
    expect(errorResponse(registryErrorOf(failure), logger as never).status).toBe(503);
  });

  it('the registry turns content that vanished mid-operation into the error the caller names, and other storage codes into 500 UNKNOWN', () => {
    const missing = new StorageError('PATH_NOT_FOUND', 'inmemory: path not found: /x');
    const vanished = registryErrorOf(missing, () => new RegistryError('BLOB_UNKNOWN', 'blob gone'));
    expect(errorResponse(vanished, logger as never)).toMatchObject({ status: 404, body: { errors: [{ code: 'BLOB_UNKNOWN' }] } });
    expect(errorResponse(registryErrorOf(new StorageError('INVALID_OFFSET', 'x')), logger as never)).toMatchObject({
      status: 500,
      body: { errors: [{ code: 'UNKNOWN', message: 'storage backend failed (INVALID_OFFSET)' }] },
    });
  });

  it('keeps 500 UNKNOWN for an unexpected error and the spec status for a registry error', () => {
    expect(errorResponse(new TypeError('boom'), logger as never)).toMatchObject({ status: 500, body: { errors: [{ code: 'UNKNOWN' }] } });
    expect(errorResponse(new RegistryError('BLOB_UNKNOWN', 'blob unknown'), logger as never)).toMatchObject({
      status: 404,
      body: { errors: [{ code: 'BLOB_UNKNOWN' }] },
    });
  });
});
