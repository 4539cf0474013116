import { once } from 'node:events';
import { connect } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { FileWriter } from '../../src/storage/driver.js';
import { undefinedIfNotFound } from '../../src/storage/errors.js';
import { decorate } from '../support/driver-decorator.js';
import { inMemoryDriver, startTestRegistry } from './support/registry.js';

describe("a request's signal", () => {
  it('takes an abort listener from each of many storage calls in flight for one request without a leak warning', async () => {
    const store = inMemoryDriver();
    let signalled = 0;
    // as a backend client does: one listener per request in flight, removed when it settles
    const withListeners = async <T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> => {
      if (signal) signalled++;
      const listeners = Array.from({ length: 24 }, () => () => undefined);
      for (const listener of listeners) signal?.addEventListener('abort', listener);
      try {
        return await call();
      } finally {
        for (const listener of listeners) signal?.removeEventListener('abort', listener);
      }
    };
    const observed = decorate(store, {
      stat: (path, signal) => withListeners(signal, () => store.stat(path, signal)),
      statIfPresent: (path, signal) => withListeners(signal, () => undefinedIfNotFound(() => store.stat(path, signal))),
      getContent: (path, signal) => withListeners(signal, () => store.getContent(path, signal)),
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    const registry = await startTestRegistry({ driver: observed });
    try {
      const response = await registry.send('HEAD', `/v2/some/repo/blobs/sha256:${'0'.repeat(64)}`);
      expect(response.status).toBe(404);
      expect(signalled).toBeGreaterThan(0);
      // a warning is emitted on a later tick than the listener that passed the limit
      await nextTurn();
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await registry.close();
    }
  });
});

describe('a client that disconnects', () => {
  it('aborts the signal that the storage calls made for its request carry', async () => {
    const store = inMemoryDriver();
    const signals: (AbortSignal | undefined)[] = [];
    let writing: () => void = () => undefined;
    const writeStarted = new Promise<void>((resolve) => (writing = resolve));
    const observed = decorate(store, {
      writer: async (path, append, signal) => {
        const writer = await store.writer(path, append, signal);
        const observing: FileWriter = {
          get size() {
            return writer.size;
          },
          write: async (chunk, writeSignal) => {
            signals.push(writeSignal);
            writing();
            return writer.write(chunk, writeSignal);
          },
          close: (s) => writer.close(s),
          cancel: (s) => writer.cancel(s),
          commit: (s) => writer.commit(s),
        };
        return observing;
      },
    });
    const registry = await startTestRegistry({ driver: observed });
    try {
      const started = await registry.send('POST', '/v2/gone/repo/blobs/uploads/');
      const location = started.headers.location as string;
      const { port } = new URL(registry.url);
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      // a chunked PATCH whose body never ends: the registry is mid-upload when the client goes
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
      await writeStarted;
      const signal = signals[0];
      expect(signal).toBeInstanceOf(AbortSignal);
      expect(signal!.aborted).toBe(false);
      socket.destroy();
      if (!signal!.aborted) await once(signal!, 'abort');
      expect(signal!.aborted).toBe(true);
    } finally {
      await registry.close();
    }
  });
});
