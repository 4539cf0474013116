/**
 * The signal of the storage call in progress, for the HTTP requests it makes. A driver call such as `stat`
 * reaches HttpClient through a vendor's ObjectStore whose methods know nothing of signals; rather than
 * thread a parameter through every store method of every vendor, the call runs in an AsyncLocalStorage
 * scope holding its signal, and HttpClient hands that signal to undici (http-client.ts). So a client that
 * disconnects aborts the backend request the registry is waiting on, and no retry follows.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FileWriter, StorageDriver } from 'stowage';

const scope = new AsyncLocalStorage<AbortSignal>();

/** The signal of the storage call this code runs for, if it carries one. */
export const currentSignal = (): AbortSignal | undefined => scope.getStore();

/** Runs `work` with `signal` as the current signal (an outer one stays current when `signal` is undefined). */
export function withSignal<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (!signal) return work();
  signal.throwIfAborted();
  return scope.run(signal, work);
}

/**
 * Runs `work` outside any signal's scope: for the step that completes what a call already made visible
 * (a move's delete of its source once the copy is in place), which an abort must not cut in half.
 */
export function withoutSignal<T>(work: () => Promise<T>): Promise<T> {
  return scope.exit(work);
}

/** Where each contract method takes its signal (the contract's trailing parameter). */
const DRIVER_SIGNAL_AT: Readonly<Record<string, number>> = {
  getContent: 1, putContent: 2, reader: 2, writer: 2, uploadSize: 1, stat: 1, list: 1, move: 2, delete: 1,
  redirectURL: 2, walk: 3, purgeTemporaries: 2, putVolatile: 2, persist: 1,
};
const WRITER_SIGNAL_AT: Readonly<Record<string, number>> = { write: 1, close: 0, cancel: 0, commit: 0 };

type Method = (...args: unknown[]) => Promise<unknown>;

/** `target` whose methods named in `signalAt` run in the scope of the signal they were given. */
function scoped<T extends object>(target: T, signalAt: Readonly<Record<string, number>>, wrapResult?: (name: string, result: unknown) => unknown): T {
  return new Proxy(target, {
    get(object, name, receiver) {
      const value: unknown = Reflect.get(object, name, receiver);
      if (typeof name !== 'string' || typeof value !== 'function' || signalAt[name] === undefined) return value;
      const at = signalAt[name]!;
      return async (...args: unknown[]) => {
        const signal = args[at] instanceof AbortSignal ? (args[at] as AbortSignal) : undefined;
        const result = await withSignal(signal, () => (value as Method).apply(object, args));
        return wrapResult ? wrapResult(name, result) : result;
      };
    },
  });
}

/**
 * The driver, with each call (and each call of the writers it opens) run in the scope of its signal, so
 * that HttpClient's requests for it are aborted with it. ObjectDriver-based plugins wrap their driver once.
 */
export function passSignalsToRequests<D extends StorageDriver>(driver: D): D {
  return scoped(driver, DRIVER_SIGNAL_AT, (name, result) => (name === 'writer' ? scoped(result as FileWriter, WRITER_SIGNAL_AT) : result));
}
