/**
 * The wrapper stowage puts around every driver (distribution's driver/base): the checks every driver
 * needs, done once, so that a driver only implements the storage itself.
 *
 * - paths are validated (INVALID_PATH) and offsets checked (INVALID_OFFSET) before the driver sees them;
 * - a call whose signal already aborted does not reach the driver; an abort passes through unstamped;
 * - errors carry the driver's name, and anything that is not a storage error becomes STORAGE_FAILED with
 *   the original as `cause`;
 * - `walk` comes from `list` + `stat`, `listAfter` from `list` and `putContents` from `putContent` when the driver has
 *   none; `redirectURL` answers undefined when the driver has none (the fallbacks of optional-calls.ts);
 * - every other optional call is there exactly when the driver has it, checked the same way.
 */
import type { Readable } from 'node:stream';
import type { DriverErrorFactory, FileWriter, StorageDriver } from './driver.js';
import { StorageError, driverErrors, isAbortError, storageErrorCode } from './errors.js';
import { isValidDirectoryPath, isValidStoragePath } from './paths.js';
import { optionalDriverCalls, optionalWriterCalls, type OptionalCallInvocation, type OptionalCallWrapping } from './optional-calls.js';
import { ForwardingWriter } from './forwarding-writer.js';

const wrapped = Symbol.for('stowage.storage.wrappedDriver');

/** `callersOwn`: an error that is the caller's own (its callback's), passed through as it is */
type Guard = <T>(operation: string, path: string, signal: AbortSignal | undefined, run: () => Promise<T>, callersOwn?: (err: unknown) => boolean) => Promise<T>;

export function wrapDriver(driver: StorageDriver): StorageDriver {
  if ((driver as { [wrapped]?: true })[wrapped]) return driver;
  const name = driver.name;
  const errors = driverErrors(name);

  const guard: Guard = async (operation, path, signal, run, callersOwn) => {
    signal?.throwIfAborted();
    try {
      return await run();
    } catch (err) {
      if (callersOwn?.(err)) throw err;
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
    async reader(path, offset, signal): Promise<Readable> {
      object(path);
      if (!Number.isSafeInteger(offset) || offset < 0) throw errors.invalidOffset(path, offset);
      return guard('reader', path, signal, () => driver.reader(path, offset, signal));
    },
    async writer(path, append, signal) {
      object(path);
      const inner = await guard('writer', path, signal, () => driver.writer(path, append, signal));
      return wrapWriter(inner, path, guard, errors);
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
    async move(sourcePath, destPath, signal) {
      object(sourcePath);
      object(destPath);
      return guard('move', sourcePath, signal, () => driver.move(sourcePath, destPath, signal));
    },
    async delete(path, signal) {
      object(path);
      return guard('delete', path, signal, () => driver.delete(path, signal));
    },
  };
  Object.assign(wrapper, optionalDriverCalls(driver, checkedCalls(guard, errors), wrapper));
  return wrapper;
}

/** True for a driver that went through wrapDriver. */
export const isWrappedDriver = (driver: StorageDriver): boolean => (driver as { [wrapped]?: true })[wrapped] === true;

function wrapWriter(inner: FileWriter, path: string, guard: Guard, errors: DriverErrorFactory): FileWriter {
  return Object.assign(new CheckedWriter(inner, path, guard), optionalWriterCalls(inner, checkedCalls(guard, errors)));
}

/** A writer's checks (see ForwardingWriter for why a class). */
class CheckedWriter extends ForwardingWriter {
  constructor(
    inner: FileWriter,
    private readonly path: string,
    private readonly guard: Guard,
  ) {
    super(inner);
  }

  override write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.guard('write', this.path, signal, () => this.inner.write(chunk, signal));
  }

  // close and cancel run even when the signal has aborted: they let go of what the writer holds (a
  // descriptor), which a caller closing after an aborted request would otherwise leak
  override close(signal?: AbortSignal): Promise<void> {
    return this.guard('close', this.path, undefined, () => this.inner.close(signal));
  }

  override cancel(signal?: AbortSignal): Promise<void> {
    return this.guard('cancel', this.path, undefined, () => this.inner.cancel(signal));
  }

  override commit(signal?: AbortSignal): Promise<void> {
    return this.guard('commit', this.path, signal, () => this.inner.commit(signal));
  }
}

/**
 * The checks around every optional call (optional-calls.ts): its paths validated before the driver sees them,
 * a call whose signal aborted never made, errors stamped; what the caller's own callback throws (a walk's)
 * passes through as it is. A synchronous check that fails gives no answer: a stamp that cannot be taken is
 * no stamp, and the caller reads the object instead.
 */
function checkedCalls(guard: Guard, errors: DriverErrorFactory): OptionalCallWrapping {
  const checkPaths = (call: OptionalCallInvocation<unknown>): void => {
    const paths = call.objectPaths();
    for (const path of paths) if (!isValidStoragePath(path)) throw errors.invalidPath(path);
    const directory = call.directoryPath();
    if (directory !== undefined && !isValidDirectoryPath(directory)) throw errors.invalidPath(directory);
    if (call.distinctPaths && new Set(paths).size !== paths.length) throw errors.invalidPath(paths.join(', '));
  };
  return {
    async async(call) {
      checkPaths(call);
      const at = call.callbackAt;
      if (at === undefined) return guard(call.name, call.subjectPath(), call.signal, () => call.proceed());
      const callback = call.args[at] as (...args: unknown[]) => unknown;
      const callbackErrors = new WeakSet<object>();
      const args = [...call.args];
      args[at] = async (...callbackArgs: unknown[]) => {
        try {
          return await callback(...callbackArgs);
        } catch (err) {
          if (typeof err === 'object' && err !== null) callbackErrors.add(err);
          throw err;
        }
      };
      return guard(call.name, call.subjectPath(), call.signal, () => call.proceed(args), (err) => typeof err === 'object' && err !== null && callbackErrors.has(err));
    },
    sync(call) {
      checkPaths(call);
      try {
        return call.proceed();
      } catch {
        return undefined;
      }
    },
    release: (call) => guard(call.name, '/', undefined, () => call.proceed()),
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
