/**
 * A writer that passes every call on to another: the base of the wrappers that change one or two of them
 * (checks, metrics, the request's signal, cache invalidation). A class, not an object literal with a getter
 * and closures: a wrapper lives as long as its upload, and the methods are shared on the prototype.
 */
import type { FileWriter } from './driver.js';

export class ForwardingWriter implements FileWriter {
  constructor(protected readonly inner: FileWriter) {}

  get size(): number {
    return this.inner.size;
  }

  write(chunk: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.inner.write(chunk, signal);
  }

  close(signal?: AbortSignal): Promise<void> {
    return this.inner.close(signal);
  }

  cancel(signal?: AbortSignal): Promise<void> {
    return this.inner.cancel(signal);
  }

  commit(signal?: AbortSignal): Promise<void> {
    return this.inner.commit(signal);
  }
}
