/**
 * A driver view whose every call carries one AbortSignal: the registry builds one per request, so the
 * request's signal reaches the driver without every registry function taking a `signal` parameter.
 * The signal may be given as a function that makes it on first use: a request answered from memory (a
 * manifest GET whose links are kept) then never makes one, and an AbortController costs more than the
 * rest of such a request's bookkeeping.
 */
import type { FileWriter, StorageDriver } from './driver.js';
import { optionalDriverCalls, optionalWriterCalls, type OptionalCallWrapping } from './optional-calls.js';
import { ForwardingWriter } from './forwarding-writer.js';

/** One request's view: its signal, and every method on a prototype all views of one driver share. */
interface SignalledView extends StorageDriver {
  signalOf: () => AbortSignal;
}

export function withSignal(driver: StorageDriver, signal: AbortSignal | (() => AbortSignal) | undefined): StorageDriver {
  if (!signal) return driver;
  // a view per request costs one small object: the methods are built once per driver, not per request
  const view = Object.create(viewPrototypeOf(driver)) as SignalledView;
  view.signalOf = typeof signal === 'function' ? signal : () => signal;
  return view;
}

const viewPrototypes = new WeakMap<StorageDriver, StorageDriver>();

/** the methods of every view of `driver`, each taking the signal of the view it is called on */
function viewPrototypeOf(driver: StorageDriver): StorageDriver {
  const known = viewPrototypes.get(driver);
  if (known) return known;
  const signalOf = (view: unknown): AbortSignal => (view as SignalledView).signalOf();
  const prototype: StorageDriver = {
    name: driver.name,
    getContent(path) {
      return driver.getContent(path, signalOf(this));
    },
    putContent(path, content) {
      return driver.putContent(path, content, signalOf(this));
    },
    reader(path, offset) {
      return driver.reader(path, offset, signalOf(this));
    },
    async writer(path, append) {
      const signal = signalOf(this);
      return writerWithSignal(await driver.writer(path, append, signal), signal);
    },
    uploadSize(path) {
      return driver.uploadSize(path, signalOf(this));
    },
    stat(path) {
      return driver.stat(path, signalOf(this));
    },
    list(path) {
      return driver.list(path, signalOf(this));
    },
    move(sourcePath, destPath) {
      return driver.move(sourcePath, destPath, signalOf(this));
    },
    delete(path) {
      return driver.delete(path, signalOf(this));
    },
    ...optionalDriverCalls(driver, requestSignalled(signalOf)),
  };
  viewPrototypes.set(driver, prototype);
  return prototype;
}

/**
 * Writes stop when the signal aborts; close, commit and cancel do not take it: what was written is settled
 * (kept for a later append, or discarded) even when the client has gone.
 */
function writerWithSignal(writer: FileWriter, signal: AbortSignal): FileWriter {
  return Object.assign(new SignalledWriter(writer, signal), optionalWriterCalls(writer, requestSignalled(() => signal)));
}

/** A writer whose writes carry the request's signal, and whose close, cancel and commit carry none. */
class SignalledWriter extends ForwardingWriter {
  constructor(
    inner: FileWriter,
    private readonly signal: AbortSignal,
  ) {
    super(inner);
  }

  override write(chunk: Uint8Array): Promise<void> {
    return this.inner.write(chunk, this.signal);
  }

  override close(): Promise<void> {
    return this.inner.close();
  }

  override cancel(): Promise<void> {
    return this.inner.cancel();
  }

  override commit(): Promise<void> {
    return this.inner.commit();
  }
}

/**
 * An async call gets the request's signal (of the view it is called on), except one that settles what a writer
 * holds; sync calls and close have none.
 */
function requestSignalled(signalOf: (view: unknown) => AbortSignal): OptionalCallWrapping {
  return { async: (call, view) => (call.settles ? call.proceed() : call.proceedWithSignal(signalOf(view))) };
}
