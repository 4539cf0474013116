import type { Readable } from 'node:stream';

/**
 * Drops a response body that will not be read. undici reports destroying an unread body as an
 * AbortError on the stream; nobody listens for it here, so without a listener it would crash the process.
 */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}
