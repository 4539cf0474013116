/**
 * A reader that survives a connection dropped mid-body: it asks again from the byte it got to, and
 * refuses to splice in bytes of another version of the object (the ETag must not change).
 */
import { Readable } from 'node:stream';
import type { DriverLogger } from 'stowage';
import { headerValue, type SwiftClient } from './client.js';
import { backoffMs, BackendError, isRetriable } from './retry.js';

export interface ResumableSource {
  readonly client: SwiftClient;
  readonly logger: DriverLogger;
  readonly path: string;
  /** the object's URL path below the storage URL */
  readonly urlPath: string;
  readonly offset: number;
  readonly length: number;
  readonly etag?: string;
  /** the first answer body, already open at `offset` */
  readonly first: Readable;
}

export function resumableReader(source: ResumableSource): Readable {
  const { client, logger } = source;
  const retries = client.options.retries;
  let position = source.offset;
  let current: Readable | undefined = source.first;
  let failures = 0;
  let iterator: AsyncIterator<Buffer> | undefined;

  const reopen = async (): Promise<void> => {
    const headers: Record<string, string> = { range: `bytes=${position}-` };
    const response = await client.open({ method: 'GET', path: source.urlPath, headers, accept: [404, 416] }, `read ${source.path}`);
    if (response.status !== 206 && response.status !== 200) {
      await response.body.resume();
      throw new BackendError(`read ${source.path}: the object changed or vanished while it was being read (${response.status})`, response.status);
    }
    const etag = headerValue(response.headers, 'etag');
    if (source.etag && etag !== source.etag) {
      response.body.on('error', () => undefined).destroy(); // an unread undici body errors on destroy
      throw new BackendError(`read ${source.path}: the object changed while it was being read`);
    }
    current = response.body;
    iterator = undefined;
  };

  return new Readable({
    highWaterMark: 1 << 20,
    async read() {
      for (;;) {
        try {
          if (!current) await reopen();
          iterator ??= (current as Readable)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
          const next = await iterator.next();
          if (next.done) {
            if (position < source.offset + source.length) throw Object.assign(new Error('premature end of body'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
            this.push(null);
            return;
          }
          position += next.value.length;
          this.push(next.value);
          return;
        } catch (err) {
          current?.destroy();
          current = undefined;
          iterator = undefined;
          if (!isRetriable(err) || failures >= retries) {
            this.destroy(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          const delay = backoffMs({ retries, delayMs: client.options.retryDelayMs }, failures++);
          logger.warn({ path: source.path, position, delayMs: Math.round(delay) }, 'swift read interrupted; resuming');
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    },
    destroy(err, callback) {
      current?.destroy();
      callback(err);
    },
  });
}
