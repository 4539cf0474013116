/**
 * The wrapper stowage puts around every driver (distribution's driver/base): the checks every driver
 * needs, done once, so that a driver only implements the storage itself.
 *
 * - paths are validated (INVALID_PATH) and offsets checked (INVALID_OFFSET) before the driver sees them;
 * - errors carry the driver's name, and anything that is not a storage error becomes STORAGE_FAILED with
 *   the original as `cause`;
 * - `walk` comes from `list` + `stat` when the driver has none; `redirectURL` answers undefined when the
 *   driver has none.
 */
import type { Readable } from 'node:stream';
import type { FileWriter, StorageDriver, WalkFn, WalkOptions } from './driver.js';
import { StorageError, driverErrors, storageErrorCode } from './errors.js';
import { isValidDirectoryPath, isValidStoragePath } from './paths.js';
import { walkFromListing } from './walk.js';

const wrapped = Symbol.for('stowage.storage.wrappedDriver');

export function wrapDriver(driver: StorageDriver): StorageDriver {
  if ((driver as { [wrapped]?: true })[wrapped]) return driver;
  const name = driver.name;
  const errors = driverErrors(name);

  const guard = async <T>(operation: string, path: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw stampError(name, operation, path, err);
    }
  };
  const object = (path: string): void => {
    if (!isValidStoragePath(path)) throw errors.invalidPath(path);
  };
  const directory = (path: string): void => {
    if (!isValidDirectoryPath(path)) throw errors.invalidPath(path);
  };

  const wrapper: StorageDriver & { [wrapped]: true } = {
    [wrapped]: true,
    name,
    async getContent(path) {
      object(path);
      return guard('getContent', path, () => driver.getContent(path));
    },
    async putContent(path, content) {
      object(path);
      return guard('putContent', path, () => driver.putContent(path, content));
    },
    async reader(path, offset): Promise<Readable> {
      object(path);
      if (!Number.isSafeInteger(offset) || offset < 0) throw errors.invalidOffset(path, offset);
      return guard('reader', path, () => driver.reader(path, offset));
    },
    async writer(path, append) {
      object(path);
      const inner = await guard('writer', path, () => driver.writer(path, append));
      return wrapWriter(inner, path, guard);
    },
    async stat(path) {
      directory(path);
      return guard('stat', path, () => driver.stat(path));
    },
    async list(path) {
      directory(path);
      return guard('list', path, () => driver.list(path));
    },
    async move(sourcePath, destPath) {
      object(sourcePath);
      object(destPath);
      return guard('move', sourcePath, () => driver.move(sourcePath, destPath));
    },
    async delete(path) {
      object(path);
      return guard('delete', path, () => driver.delete(path));
    },
    async redirectURL(path, options) {
      object(path);
      if (!driver.redirectURL) return undefined;
      return guard('redirectURL', path, () => driver.redirectURL!(path, options));
    },
    async walk(path: string, fn: WalkFn, options?: WalkOptions) {
      directory(path);
      // The fallback goes through the wrapper so that list/stat errors are stamped too.
      if (!driver.walk) return walkFromListing(wrapper, path, fn, options);
      // What the caller's callback throws is the caller's own error: it passes through unstamped.
      const callbackErrors = new WeakSet<object>();
      const tracked: WalkFn = async (info) => {
        try {
          return await fn(info);
        } catch (err) {
          if (typeof err === 'object' && err !== null) callbackErrors.add(err);
          throw err;
        }
      };
      try {
        await driver.walk(path, tracked, options);
      } catch (err) {
        if (typeof err === 'object' && err !== null && callbackErrors.has(err)) throw err;
        throw stampError(name, 'walk', path, err);
      }
    },
  };
  if (driver.close) wrapper.close = () => guard('close', '/', () => driver.close!());
  return wrapper;
}

function wrapWriter(
  inner: FileWriter,
  path: string,
  guard: <T>(operation: string, path: string, run: () => Promise<T>) => Promise<T>,
): FileWriter {
  return {
    get size() {
      return inner.size;
    },
    write: (chunk) => guard('write', path, () => inner.write(chunk)),
    close: () => guard('close', path, () => inner.close()),
    cancel: () => guard('cancel', path, () => inner.cancel()),
    commit: () => guard('commit', path, () => inner.commit()),
  };
}

/** A storage error that names its driver; unknown errors become STORAGE_FAILED, keeping the original as cause. */
export function stampError(driver: string, operation: string, path: string, err: unknown): StorageError | Error {
  const code = storageErrorCode(err);
  if (code) {
    const known = err as Error & { details?: Record<string, unknown> };
    if (known.message.includes(driver)) return known;
    return new StorageError(code, `${driver}: ${known.message}`, { ...(known.details ?? {}), driver }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError('STORAGE_FAILED', `${driver}: ${operation} ${path} failed: ${message}`, { driver, path, operation }, { cause: err });
}
