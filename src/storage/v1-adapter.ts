/** Drivers written for contract version 1, run under version 2. */
import type { StorageDriver, StorageDriverV1 } from './driver.js';
import { optionalDriverCalls } from './optional-calls.js';

/**
 * A version-1 driver under the version-2 contract. Signals are passed along (a v1 driver ignores the extra
 * argument). v1 has no way to read an upload's size without a writer, so `uploadSize` opens one and closes it,
 * as stowage did before v2: on a driver whose writer saves state on close, that read writes.
 */
export function adaptV1Driver(driver: StorageDriver | StorageDriverV1): StorageDriver {
  if (typeof driver.uploadSize === 'function') return driver as StorageDriver;
  const v1 = driver;
  const adapted: StorageDriver = {
    name: v1.name,
    getContent: (path, signal) => v1.getContent(path, signal),
    putContent: (path, content, signal) => v1.putContent(path, content, signal),
    reader: (path, offset, signal) => v1.reader(path, offset, signal),
    writer: (path, append, signal) => v1.writer(path, append, signal),
    async uploadSize(path) {
      const writer = await v1.writer(path, true);
      try {
        return writer.size;
      } finally {
        await writer.close();
      }
    },
    stat: (path, signal) => v1.stat(path, signal),
    list: (path, signal) => v1.list(path, signal),
    move: (source, dest, signal) => v1.move(source, dest, signal),
    delete: (path, signal) => v1.delete(path, signal),
  };
  // every optional call the v1 driver has, passed on as it is
  Object.assign(adapted, optionalDriverCalls(v1, {}));
  return adapted;
}
