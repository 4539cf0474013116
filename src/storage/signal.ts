/**
 * A driver view whose every call carries one AbortSignal: the registry builds one per request, so the
 * request's signal reaches the driver without every registry function taking a `signal` parameter.
 * The signal may be given as a function that makes it on first use: a request answered from memory (a
 * manifest GET whose links are kept) then never makes one, and an AbortController costs more than the
 * rest of such a request's bookkeeping.
 */
import type { FileWriter, StorageDriver } from './driver.js';
import { optionalDriverCalls, optionalWriterCalls, type OptionalCallWrapping } from './optional-calls.js';

export function withSignal(driver: StorageDriver, signal: AbortSignal | (() => AbortSignal) | undefined): StorageDriver {
  if (!signal) return driver;
  const signalOf = typeof signal === 'function' ? signal : () => signal;
  const bound: StorageDriver = {
    name: driver.name,
    getContent: (path) => driver.getContent(path, signalOf()),
    putContent: (path, content) => driver.putContent(path, content, signalOf()),
    reader: (path, offset) => driver.reader(path, offset, signalOf()),
    writer: async (path, append) => writerWithSignal(await driver.writer(path, append, signalOf()), signalOf()),
    uploadSize: (path) => driver.uploadSize(path, signalOf()),
    stat: (path) => driver.stat(path, signalOf()),
    list: (path) => driver.list(path, signalOf()),
    move: (sourcePath, destPath) => driver.move(sourcePath, destPath, signalOf()),
    delete: (path) => driver.delete(path, signalOf()),
  };
  Object.assign(bound, optionalDriverCalls(driver, requestSignalled(signalOf)));
  return bound;
}

/**
 * Writes stop when the signal aborts; close, commit and cancel do not take it: what was written is settled
 * (kept for a later append, or discarded) even when the client has gone.
 */
function writerWithSignal(writer: FileWriter, signal: AbortSignal): FileWriter {
  return {
    get size() {
      return writer.size;
    },
    write: (chunk) => writer.write(chunk, signal),
    close: () => writer.close(),
    cancel: () => writer.cancel(),
    commit: () => writer.commit(),
    ...optionalWriterCalls(writer, requestSignalled(() => signal)),
  };
}

/** An async call gets the request's signal, except one that settles what a writer holds; sync calls and close have none. */
function requestSignalled(signalOf: () => AbortSignal): OptionalCallWrapping {
  return { async: (call) => (call.settles ? call.proceed() : call.proceedWithSignal(signalOf())) };
}
