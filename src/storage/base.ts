/**
 * The wrapper stowage puts around every driver (distribution's driver/base): the checks every driver
 * needs, done once, so that a driver only implements the storage itself.
 *
 * - paths are validated (INVALID_PATH) and offsets checked (INVALID_OFFSET) before the driver sees them;
 * - a call whose signal already aborted does not reach the driver; an abort passes through unstamped;
 * - errors carry the driver's name, and anything that is not a storage error becomes STORAGE_FAILED with
 *   the original as `cause`;
 * - `walk` comes from `list` + `stat`, `listAfter` from `list` and `putContents` from `putContent` when the driver has
 *   none; `redirectURL` answers undefined when the driver has none.
 */
import type { Readable } from 'node:stream';
import type { FileWriter, StorageDriver, WalkFn, WalkOptions } from './driver.js';
import { StorageError, driverErrors, isAbortError, storageErrorCode } from './errors.js';
import { isValidDirectoryPath, isValidStoragePath } from './paths.js';
import { listAfterFromListing } from './list-after.js';
import { walkFromListing } from './walk.js';

const wrapped = Symbol.for('stowage.storage.wrappedDriver');

type Guard = <T>(operation: string, path: string, signal: AbortSignal | undefined, run: () => Promise<T>) => Promise<T>;

export function wrapDriver(driver: StorageDriver): StorageDriver {
  if ((driver as { [wrapped]?: true })[wrapped]) return driver;
  const name = driver.name;
  const errors = driverErrors(name);

  const guard: Guard = async (operation, path, signal, run) => {
    signal?.throwIfAborted();
    try {
      return await run();
    } catch (err) {
      // the caller stopped waiting: its abort is not a storage failure
      if (signal?.aborted || isAbortError(err)) throw signal?.reason ?? err;
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
    async getContent(path, signal) {
      object(path);
      return guard('getContent', path, signal, () => driver.getContent(path, signal));
    },
    async putContent(path, content, signal) {
      object(path);
      return guard('putContent', path, signal, () => driver.putContent(path, content, signal));
    },
    async putContents(objects, signal) {
      for (const { path } of objects) object(path);
      if (new Set(objects.map(({ path }) => path)).size !== objects.length) throw errors.invalidPath(objects.map(({ path }) => path).join(', '));
      // the fallback goes through the wrapper: one stamped putContent after the other, in order
      if (!driver.putContents) {
        for (const { path, content } of objects) await wrapper.putContent(path, content, signal);
        return;
      }
      return guard('putContents', objects[0]?.path ?? '/', signal, () => driver.putContents!(objects, signal));
    },
    async reader(path, offset, signal): Promise<Readable> {
      object(path);
      if (!Number.isSafeInteger(offset) || offset < 0) throw errors.invalidOffset(path, offset);
      return guard('reader', path, signal, () => driver.reader(path, offset, signal));
    },
    async writer(path, append, signal) {
      object(path);
      const inner = await guard('writer', path, signal, () => driver.writer(path, append, signal));
      return wrapWriter(inner, path, guard, (bad) => errors.invalidPath(bad));
    },
    async uploadSize(path, signal) {
      object(path);
      return guard('uploadSize', path, signal, () => driver.uploadSize(path, signal));
    },
    async stat(path, signal) {
      directory(path);
      return guard('stat', path, signal, () => driver.stat(path, signal));
    },
    async list(path, signal) {
      directory(path);
      return guard('list', path, signal, () => driver.list(path, signal));
    },
    async listAfter(path, after, limit, signal) {
      directory(path);
      // the fallback goes through the wrapper, so that its list errors are stamped
      if (!driver.listAfter) return listAfterFromListing(wrapper, path, after, limit, signal);
      return guard('listAfter', path, signal, () => driver.listAfter!(path, after, limit, signal));
    },
    async move(sourcePath, destPath, signal) {
      object(sourcePath);
      object(destPath);
      return guard('move', sourcePath, signal, () => driver.move(sourcePath, destPath, signal));
    },
    async delete(path, signal) {
      object(path);
      return guard('delete', path, signal, () => driver.delete(path, signal));
    },
    async redirectURL(path, options, signal) {
      object(path);
      if (!driver.redirectURL) return undefined;
      return guard('redirectURL', path, signal, () => driver.redirectURL!(path, options, signal));
    },
    async walk(path: string, fn: WalkFn, options?: WalkOptions, signal?: AbortSignal) {
      directory(path);
      // The fallback goes through the wrapper so that list/stat errors are stamped too.
      if (!driver.walk) return walkFromListing(wrapper, path, fn, options, signal);
      signal?.throwIfAborted();
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
        await driver.walk(path, tracked, options, signal);
      } catch (err) {
        if (typeof err === 'object' && err !== null && callbackErrors.has(err)) throw err;
        if (signal?.aborted || isAbortError(err)) throw signal?.reason ?? err;
        throw stampError(name, 'walk', path, err);
      }
    },
  };
  if (driver.contentStampSync) {
    wrapper.contentStampSync = (path) => {
      object(path);
      try {
        return driver.contentStampSync!(path);
      } catch {
        // a stamp that cannot be taken is no stamp: the caller reads the object instead
        return undefined;
      }
    };
  }
  if (driver.close) wrapper.close = () => guard('close', '/', undefined, () => driver.close!());
  if (driver.purgeTemporaries) {
    wrapper.purgeTemporaries = (olderThan, dryRun, signal) => guard('purgeTemporaries', '/', signal, () => driver.purgeTemporaries!(olderThan, dryRun, signal));
  }
  if (driver.putVolatile && driver.persist) {
    wrapper.putVolatile = async (path, content, signal) => {
      object(path);
      return guard('putVolatile', path, signal, () => driver.putVolatile!(path, content, signal));
    };
    wrapper.persist = async (path, signal) => {
      object(path);
      return guard('persist', path, signal, () => driver.persist!(path, signal));
    };
  }
  return wrapper;
}

/** True for a driver that went through wrapDriver. */
export const isWrappedDriver = (driver: StorageDriver): boolean => (driver as { [wrapped]?: true })[wrapped] === true;

function wrapWriter(inner: FileWriter, path: string, guard: Guard, invalidPath: (path: string) => Error): FileWriter {
  const wrapper: FileWriter = {
    get size() {
      return inner.size;
    },
    write: (chunk, signal) => guard('write', path, signal, () => inner.write(chunk, signal)),
    // run even when the signal has aborted: they let go of what the writer holds (a descriptor), which a
    // caller closing after an aborted request would otherwise leak
    close: (signal) => guard('close', path, undefined, () => inner.close(signal)),
    cancel: (signal) => guard('cancel', path, undefined, () => inner.cancel(signal)),
    commit: (signal) => guard('commit', path, signal, () => inner.commit(signal)),
  };
  if (inner.commitTo) {
    wrapper.commitTo = async (destPath, signal) => {
      if (!isValidStoragePath(destPath)) throw invalidPath(destPath);
      return guard('commitTo', destPath, signal, () => inner.commitTo!(destPath, signal));
    };
  }
  return wrapper;
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
