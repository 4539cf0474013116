/**
 * The one HTTP client of an object-store driver (undici): a request is rebuilt and re-signed for each
 * attempt, failed attempts (network errors, timeouts, 5xx, 429) are retried `retries` times with
 * `retryInterval` between them, and each attempt is bounded by `timeout` (until the whole reply for
 * buffered calls; until the headers, then between body chunks, for streamed ones). Host names under
 * `localhost` (RFC 6761) are dialled on 127.0.0.1, so a bucket host such as `bkt.localhost` reaches a
 * local emulator. Used by the ObjectStore implementations of alioss and ufile; s3 and swift have their
 * own clients, built on retry.ts, because their retry decisions read the reply (error codes, 401 renewal).
 */
import type { Readable } from 'node:stream';
import { Agent, buildConnector, request } from 'undici';
import type { DriverLogger } from 'stowage';
import { storageFailed } from './object-store.js';

export interface HttpClientOptions {
  /** the driver's name, for messages */
  readonly driver: string;
  /** attempts after the first */
  readonly retries: number;
  readonly retryIntervalMs: number;
  readonly timeoutMs: number;
  readonly logger: DriverLogger;
}

export interface OutgoingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer;
}

export interface BufferedReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface StreamedReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Readable;
}

const isLoopbackName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');
const shouldRetry = (status: number): boolean => status >= 500 || status === 429;

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

export class HttpClient {
  private readonly agent: Agent;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: HttpClientOptions) {
    const connect = buildConnector({ timeout: options.timeoutMs });
    this.agent = new Agent({
      connect: (opts, callback) => connect({ ...opts, hostname: isLoopbackName(opts.hostname) ? '127.0.0.1' : opts.hostname }, callback),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The whole reply in memory: for small bodies (XML, JSON, small objects). */
  async call(build: () => OutgoingRequest, what: string): Promise<BufferedReply> {
    return this.attempt(build, what, async (reply) => ({ ...reply, body: Buffer.from(await reply.body.arrayBuffer()) }), true);
  }

  /** A 2xx reply's body as a stream; other replies are buffered. */
  async open(build: () => OutgoingRequest, what: string): Promise<StreamedReply | BufferedReply> {
    return this.attempt(
      build,
      what,
      async (reply) => (reply.status >= 200 && reply.status < 300 ? reply : { ...reply, body: Buffer.from(await reply.body.arrayBuffer()) }),
      false,
    );
  }

  private async attempt<T extends { status: number }>(
    build: () => OutgoingRequest,
    what: string,
    finish: (reply: { status: number; headers: Record<string, string>; body: Readable & { arrayBuffer(): Promise<ArrayBuffer> } }) => Promise<T>,
    timeBody: boolean,
  ): Promise<T> {
    const attempts = this.options.retries + 1;
    for (let attempt = 1; ; attempt += 1) {
      const outgoing = build();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      try {
        const reply = await request(outgoing.url, {
          method: outgoing.method as 'GET',
          headers: outgoing.headers,
          body: outgoing.body,
          signal: controller.signal,
          dispatcher: this.agent,
        });
        if (!timeBody) clearTimeout(timer);
        if (shouldRetry(reply.statusCode) && attempt < attempts) {
          await reply.body.dump().catch(() => undefined);
          this.options.logger.warn({ driver: this.options.driver, request: what, status: reply.statusCode, attempt }, 'backend request failed; retrying');
          await this.pause();
          continue;
        }
        const result = await finish({ status: reply.statusCode, headers: flatten(reply.headers), body: reply.body });
        return result;
      } catch (err) {
        const reason = controller.signal.aborted ? String((controller.signal.reason as Error)?.message ?? 'aborted') : (err as Error).message;
        if (attempt < attempts) {
          this.options.logger.warn({ driver: this.options.driver, request: what, error: reason, attempt }, 'backend request failed; retrying');
          await this.pause();
          continue;
        }
        throw storageFailed(`${this.options.driver}: ${what} failed after ${attempts} attempt(s): ${reason}`, err);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, this.options.retryIntervalMs));
  }

  /** Idempotent: the registry and its embedder may both close the driver. */
  async close(): Promise<void> {
    this.closing ??= this.agent.close();
    await this.closing;
  }
}
