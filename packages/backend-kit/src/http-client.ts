/**
 * The one HTTP client of the object-store drivers (undici): a request is rebuilt and re-signed for each
 * attempt; what is worth another attempt is decided once, by retry.ts (network failures, timeouts,
 * overload statuses), plus whatever the vendor's error codes say (`retriableReply`: S3's BadDigest,
 * Swift's 422 for a damaged body). Attempts are spaced at a fixed interval or backed off exponentially,
 * each bounded by `timeout` (until the whole reply for buffered calls; until the headers, then between
 * body chunks, for streamed ones). A 401 may renew the credentials once (`renewCredentials`: Swift's
 * tokens). Host names under `localhost` (RFC 6761) are dialled on 127.0.0.1, so a bucket host such as
 * `bkt.localhost` reaches a local emulator. Used by alioss, ufile, s3 and swift.
 *
 * The signal of the storage call a request is made for (signal-scope.ts) aborts it too: a client that
 * went away ends the request at once, and no retry or pause follows.
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, buildConnector, request } from 'undici';
import type { DriverLogger } from 'stowage';
import { storageFailed } from './object-store.js';
import { currentSignal } from './signal-scope.js';
import { backoffMs, isRetriable, isRetriableStatus, RETRY_EVENT } from './retry.js';

export interface HttpClientOptions {
  /** the driver's name, for messages */
  readonly driver: string;
  /** attempts after the first */
  readonly retries: number;
  /** the pause between attempts; with `backoff`, the first pause, doubled (with jitter) after each attempt */
  readonly retryIntervalMs: number;
  readonly backoff?: boolean;
  readonly timeoutMs: number;
  /** bound on opening a connection; `timeoutMs` when not given */
  readonly connectTimeoutMs?: number;
  readonly tls?: { readonly rejectUnauthorized?: boolean; readonly ca?: string | Buffer };
  readonly logger: DriverLogger;
  /** a vendor's reading of a buffered reply (error codes in its body): true when the request should be sent again */
  readonly retriableReply?: (reply: BufferedReply) => boolean;
  /** called when the service answers 401: true when new credentials were obtained, and the request is sent once more */
  readonly renewCredentials?: () => Promise<boolean>;
}

export interface OutgoingRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
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

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

export class HttpClient {
  private readonly agent: Agent;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: HttpClientOptions) {
    const connect = buildConnector({ timeout: options.connectTimeoutMs ?? options.timeoutMs, ...(options.tls ?? {}) });
    this.agent = new Agent({
      connect: (opts, callback) => connect({ ...opts, hostname: isLoopbackName(opts.hostname) ? '127.0.0.1' : opts.hostname }, callback),
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** The connection pool, for a caller's own requests outside the retry loop (Swift's authentication, `/info`). */
  get dispatcher(): Agent {
    return this.agent;
  }

  /** The whole reply in memory: for small bodies (XML, JSON, small objects). */
  async call(build: () => OutgoingRequest | Promise<OutgoingRequest>, what: string): Promise<BufferedReply> {
    return this.attempt(build, what, false);
  }

  /** A 2xx reply's body as a stream; other replies are buffered. */
  async open(build: () => OutgoingRequest | Promise<OutgoingRequest>, what: string): Promise<StreamedReply | BufferedReply> {
    return this.attempt(build, what, true);
  }

  private async attempt(build: () => OutgoingRequest | Promise<OutgoingRequest>, what: string, stream: true): Promise<StreamedReply | BufferedReply>;
  private async attempt(build: () => OutgoingRequest | Promise<OutgoingRequest>, what: string, stream: false): Promise<BufferedReply>;
  private async attempt(build: () => OutgoingRequest | Promise<OutgoingRequest>, what: string, stream: boolean): Promise<StreamedReply | BufferedReply> {
    const attempts = this.options.retries + 1;
    const caller = currentSignal();
    let renewed = false;
    for (let attempt = 1; ; attempt += 1) {
      caller?.throwIfAborted();
      // a builder may need to await something first (Swift's token), so it is awaited outside the attempt's timer
      const outgoing = await build();
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      try {
        const reply = await request(outgoing.url, {
          method: outgoing.method as 'GET',
          headers: outgoing.headers,
          body: outgoing.body,
          // a streamed body stays tied to the caller's signal: the client leaving mid-download ends it too
          signal: caller ? AbortSignal.any([controller.signal, caller]) : controller.signal,
          dispatcher: this.agent,
        });
        const status = reply.statusCode;
        const headers = flatten(reply.headers);
        if (stream && status >= 200 && status < 300) {
          clearTimeout(timer);
          return { status, headers, body: reply.body };
        }
        const buffered: BufferedReply = { status, headers, body: Buffer.from(await reply.body.arrayBuffer()) };
        if (status === 401 && this.options.renewCredentials && !renewed) {
          renewed = true;
          caller?.throwIfAborted();
          if (await this.options.renewCredentials()) {
            this.options.logger.info({ driver: this.options.driver, request: what }, 'credentials refused; renewed them');
            attempt -= 1;
            continue;
          }
        }
        const retriable = isRetriableStatus(status) || (this.options.retriableReply?.(buffered) ?? false);
        if (retriable && attempt < attempts) {
          this.options.logger.warn({ event: RETRY_EVENT, driver: this.options.driver, request: what, status, attempt }, 'retrying backend request');
          await this.pause(attempt, caller);
          continue;
        }
        return buffered;
      } catch (err) {
        // the client went away: its abort, not a storage failure, and nothing more to try
        if (caller?.aborted) throw caller.reason;
        const timedOut = controller.signal.aborted;
        const reason = timedOut ? String((controller.signal.reason as Error)?.message ?? 'aborted') : (err as Error).message;
        if ((timedOut || isRetriable(err)) && attempt < attempts) {
          this.options.logger.warn({ event: RETRY_EVENT, driver: this.options.driver, request: what, error: reason, attempt }, 'retrying backend request');
          await this.pause(attempt, caller);
          continue;
        }
        throw storageFailed(`${this.options.driver}: ${what} failed after ${attempt} attempt(s): ${reason}`, err);
      } finally {
        clearTimeout(timer);
      }
    }
  }

  /** The pause before another attempt; cut short (rejecting) when the caller's signal aborts. */
  private pause(attempt: number, caller: AbortSignal | undefined): Promise<void> {
    const { retryIntervalMs, retries, backoff } = this.options;
    const delay = backoff ? backoffMs({ retries, delayMs: retryIntervalMs }, attempt - 1) : retryIntervalMs;
    return sleep(delay, undefined, caller ? { signal: caller } : undefined);
  }

  /** Idempotent: the registry and its embedder may both close the driver. */
  async close(): Promise<void> {
    this.closing ??= this.agent.close();
    await this.closing;
  }
}
