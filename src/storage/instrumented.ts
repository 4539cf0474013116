/**
 * A driver wrapper that reports each operation's latency and outcome to an observer (the metrics of
 * src/ops), as distribution's driver/base does with its Prometheus timers. It sits outside the checks of
 * base.ts, so what it sees are the errors callers see. A missing path is an answer, not a failure: it is
 * timed but not counted as an error.
 */
import type { FileWriter, StorageDriver } from './driver.js';
import { storageErrorCode } from './errors.js';
import { optionalDriverCalls, optionalWriterCalls, type OptionalCallWrapping } from './optional-calls.js';
import { ForwardingWriter } from './forwarding-writer.js';

const WRAPPED = Symbol.for('stowage.storage.wrappedDriver');

export interface StorageObserver {
  /** `errorCode`: the storage error code (or `UNKNOWN`) when the operation failed for another reason than a missing path */
  operation(driver: string, operation: string, seconds: number, errorCode?: string): void;
}

export function instrumentDriver(driver: StorageDriver, observer: StorageObserver): StorageDriver {
  const name = driver.name;
  const timed = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await run();
      observer.operation(name, operation, seconds());
      return result;
    } catch (err) {
      const code = storageErrorCode(err);
      observer.operation(name, operation, seconds(), code === 'PATH_NOT_FOUND' ? undefined : (code ?? 'UNKNOWN'));
      throw err;
    }
  };
  // sync calls (a local stat, cheaper than timing it) and close are passed on unmeasured
  const measured: OptionalCallWrapping = { async: (call) => timed(call.measuredAs, () => call.proceed()) };
  const writer = (inner: FileWriter): FileWriter => Object.assign(new MeasuredWriter(inner, timed), optionalWriterCalls(inner, measured));
  const instrumented: StorageDriver & { [WRAPPED]?: true } = {
    // measuring adds no checks: a driver base.ts already wrapped stays "wrapped", so it is not wrapped twice
    ...((driver as { [WRAPPED]?: true })[WRAPPED] ? { [WRAPPED]: true as const } : {}),
    name,
    getContent: (path, signal) => timed('getContent', () => driver.getContent(path, signal)),
    putContent: (path, content, signal) => timed('putContent', () => driver.putContent(path, content, signal)),
    reader: (path, offset, signal) => timed('reader', () => driver.reader(path, offset, signal)),
    writer: async (path, append, signal) => writer(await timed('writer', () => driver.writer(path, append, signal))),
    uploadSize: (path, signal) => timed('uploadSize', () => driver.uploadSize(path, signal)),
    stat: (path, signal) => timed('stat', () => driver.stat(path, signal)),
    list: (path, signal) => timed('list', () => driver.list(path, signal)),
    move: (source, dest, signal) => timed('move', () => driver.move(source, dest, signal)),
    delete: (path, signal) => timed('delete', () => driver.delete(path, signal)),
  };
  Object.assign(instrumented, optionalDriverCalls(driver, measured));
  return instrumented;
}

type Timed = <T>(operation: string, run: () => Promise<T>) => Promise<T>;

/** A writer whose cancel and commit are measured (writes and close are passed on unmeasured). */
class MeasuredWriter extends ForwardingWriter {
  constructor(
    inner: FileWriter,
    private readonly timed: Timed,
  ) {
    super(inner);
  }

  override cancel(signal?: AbortSignal): Promise<void> {
    return this.timed('cancel', () => this.inner.cancel(signal));
  }

  override commit(signal?: AbortSignal): Promise<void> {
    return this.timed('commit', () => this.inner.commit(signal));
  }
}
