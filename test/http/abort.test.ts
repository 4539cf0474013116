import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FileWriter } from '../../src/storage/driver.js';
import { decorate } from '../support/driver-decorator.js';
import { inMemoryDriver, startTestRegistry } from './support/registry.js';

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
