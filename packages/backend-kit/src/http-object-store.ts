/**
 * The part of an ObjectStore that is plain HTTP semantics over HttpClient, whatever the vendor: a
 * missing object is a 404, HEAD carries size and time in the standard headers, a GET's body is the
 * object. Vendors differ in signing, in how a call is named in messages and in their error bodies, so
 * those are what a subclass supplies; the vendor-specific calls (listings, multipart) stay with it.
 */
import { type BufferedReply, HttpClient, type HttpClientOptions, type OutgoingRequest } from './http-client.js';
import type { Readable } from 'node:stream';
import type { ObjectHead, RangeResult } from './object-store.js';
import type { RetryPolicy } from './retry.js';

/** One call against the vendor's API; `Q` is however the vendor writes its query (a record, a string). */
export interface StoreCall<Q> {
  readonly method: string;
  /** the object key; '' addresses the bucket */
  readonly key: string;
  readonly query?: Q;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

export abstract class HttpObjectStore<Q> {
  protected readonly http: HttpClient;
  readonly readRetries: RetryPolicy;

  protected constructor(options: HttpClientOptions) {
    this.http = new HttpClient(options);
    this.readRetries = { retries: options.retries, delayMs: options.retryIntervalMs };
  }

  /** A builder, not a request: HttpClient calls it again for each attempt, so every retry is signed afresh. */
  protected abstract build(call: StoreCall<Q>): () => OutgoingRequest | Promise<OutgoingRequest>;
  /** the call as it reads in log lines and errors (never with a secret) */
  protected abstract describe(call: StoreCall<Q>): string;
  /** the error for a reply the caller did not expect, with what the vendor's error body says */
  protected abstract fail(call: StoreCall<Q>, reply: BufferedReply): Error;

  protected send(call: StoreCall<Q>): Promise<BufferedReply> {
    return this.http.call(this.build(call), this.describe(call));
  }

  protected async expect(call: StoreCall<Q>, ...ok: number[]): Promise<BufferedReply> {
    const reply = await this.send(call);
    if (!ok.includes(reply.status)) throw this.fail(call, reply);
    return reply;
  }

  async head(key: string): Promise<ObjectHead | undefined> {
    const call: StoreCall<Q> = { method: 'HEAD', key };
    const reply = await this.send(call);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw this.fail(call, reply);
    return { size: Number(reply.headers['content-length'] ?? 0), modified: new Date(reply.headers['last-modified'] ?? Date.now()) };
  }

  async get(key: string): Promise<Buffer | undefined> {
    const call: StoreCall<Q> = { method: 'GET', key };
    const reply = await this.send(call);
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw this.fail(call, reply);
    return reply.body;
  }

  /**
   * A ranged GET on a service that honours `Range` (206; 416 past the end). A store whose service may
   * answer otherwise (OSS without its range header, UFile ignoring the range) has its own.
   */
  async getFrom(key: string, offset: number): Promise<RangeResult> {
    const call: StoreCall<Q> = { method: 'GET', key, headers: offset > 0 ? { range: `bytes=${offset}-` } : {} };
    const reply = await this.http.open(this.build(call), this.describe(call));
    if (reply.status === 404) return 'not-found';
    if (reply.status === 416) return 'unsatisfiable';
    if (reply.status === 206 || (reply.status === 200 && offset === 0)) {
      return { body: reply.body as Readable, length: Number(reply.headers['content-length'] ?? 0), etag: reply.headers.etag };
    }
    if (reply.status === 200) (reply.body as Readable).on('error', () => undefined).destroy(); // an unread undici body errors on destroy
    throw this.fail(call, { ...reply, body: Buffer.isBuffer(reply.body) ? reply.body : Buffer.alloc(0) });
  }

  async close(): Promise<void> {
    await this.http.close();
  }
}
