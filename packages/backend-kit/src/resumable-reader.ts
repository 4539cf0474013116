/**
 * A reader that survives a connection dropped mid-body: it asks again from the byte it got to, and
 * refuses to splice in bytes of another version of the object (the ETag must not change). How to ask
 * again is the backend's business (`reopen`); when to give up follows the retry policy of retry.ts.
 */
import { Readable } from 'node:stream';
import type { DriverLogger } from 'stowage';
import { backoffMs, BackendError, isRetriable, type RetryPolicy } from './retry.js';

export interface ResumableSource {
  /** the backend's name as it should read in the log line of a resumed read ('S3', 'swift') */
  readonly backend: string;
  readonly logger: DriverLogger;
  readonly path: string;
  readonly policy: RetryPolicy;
  readonly offset: number;
  readonly length: number;
  readonly etag?: string;
  /** the first answer body, already open at `offset` */
  readonly first: Readable;
  /**
   * Opens the object again from `position`, returning its body and ETag. An error it throws ends the
   * read unless isRetriable() says otherwise (so an object gone meanwhile should be a plain BackendError).
   */
  reopen(position: number): Promise<{ body: Readable; etag?: string }>;
}

export function resumableReader(source: ResumableSource): Readable {
  let position = source.offset;
  let current: Readable | undefined = source.first;
  let iterator: AsyncIterator<Buffer> | undefined;
  let failures = 0;
  const end = source.offset + source.length;

  return new Readable({
    highWaterMark: 1 << 20,
    async read() {
      for (;;) {
        try {
          if (!current) {
            const reopened = await source.reopen(position);
            if (source.etag && reopened.etag !== source.etag) {
              reopened.body.on('error', () => undefined).destroy(); // an unread undici body errors on destroy
              throw new BackendError(`read ${source.path}: the object changed while it was being read`);
            }
            current = reopened.body;
          }
          iterator ??= current[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
          const next = await iterator.next();
          if (next.done) {
            if (position < end) throw Object.assign(new Error('premature end of body'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
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
          if (!isRetriable(err) || failures >= source.policy.retries) {
            this.destroy(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          const delay = backoffMs(source.policy, failures++);
          source.logger.warn({ path: source.path, position, delayMs: Math.round(delay) }, `${source.backend} read interrupted; resuming`);
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
