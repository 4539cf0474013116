/**
 * A driver view whose every call carries one AbortSignal: the registry builds one per request, so the
 * request's signal reaches the driver without every registry function taking a `signal` parameter.
 */
import type { FileWriter, StorageDriver } from './driver.js';

export function withSignal(driver: StorageDriver, signal: AbortSignal | undefined): StorageDriver {
  if (!signal) return driver;
  const bound: StorageDriver = {
    name: driver.name,
    getContent: (path) => driver.getContent(path, signal),
    putContent: (path, content) => driver.putContent(path, content, signal),
    reader: (path, offset) => driver.reader(path, offset, signal),
    writer: async (path, append) => writerWithSignal(await driver.writer(path, append, signal), signal),
    uploadSize: (path) => driver.uploadSize(path, signal),
    stat: (path) => driver.stat(path, signal),
    list: (path) => driver.list(path, signal),
    move: (sourcePath, destPath) => driver.move(sourcePath, destPath, signal),
    delete: (path) => driver.delete(path, signal),
  };
  if (driver.redirectURL) bound.redirectURL = (path, options) => driver.redirectURL!(path, options, signal);
  if (driver.listAfter) bound.listAfter = (path, after, limit) => driver.listAfter!(path, after, limit, signal);
  if (driver.walk) bound.walk = (path, fn, options) => driver.walk!(path, fn, options, signal);
  // synchronous: nothing to stop
  if (driver.contentStampSync) bound.contentStampSync = (path) => driver.contentStampSync!(path);
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
  };
}
