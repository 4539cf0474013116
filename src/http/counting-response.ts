/**
 * The server's response class (node:http's `ServerResponse` option): a ServerResponse that counts the body
 * bytes its public write and end are given, for the access log, metrics and notifications (exchange.ts).
 *
 * Why a class and not per-request wrappers: replacing `res.write` and `res.end` with closures on each
 * response (what exchange.ts did) kept every request's objects alive through V8's young-generation
 * collections long after the response ended; under 64 connections of manifest GETs about 400 KB survived
 * each scavenge and was promoted, which called a mark-compact every second or so (docs/bench.md, "Manifest
 * GET tail, fourth pass"). Methods on a prototype allocate nothing per request.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';

export class CountingResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** body bytes handed to write and end so far; none for HEAD, whose body node does not send */
  bodyBytesOut = 0;

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    this.bodyBytesOut += this.bodyBytes(chunk);
    return (super.write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }

  override end(chunk?: unknown, ...rest: unknown[]): this {
    // end(callback) has no body
    if (typeof chunk !== 'function') this.bodyBytesOut += this.bodyBytes(chunk);
    (super.end as (...args: unknown[]) => unknown)(chunk, ...rest);
    return this;
  }

  private bodyBytes(chunk: unknown): number {
    if (this.req.method === 'HEAD' || chunk === null || chunk === undefined) return 0;
    return byteLength(chunk);
  }
}

export function byteLength(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
