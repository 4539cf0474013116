/**
 * The Swift HTTP client: one undici Agent, a cached token renewed when Swift answers 401, and every
 * request retried with backoff on network failures and overload statuses (bodies are replayable
 * buffers, so a retry resends exactly the same bytes).
 */
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { DriverLogger } from 'stowage';
import { BackendError, type BackendResponse, isRetriableStatus, withRetries } from '@stowage/backend-kit';
import { authenticate, type SwiftSession } from './auth.js';
import type { ResolvedSwiftOptions } from './options.js';

export interface SwiftRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'COPY';
  /** below the storage URL: '' (the account), '/<container>' or '/<container>/<object>', already encoded */
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** statuses returned to the caller instead of thrown; 2xx always are */
  readonly accept?: readonly number[];
}

/** Encodes an object name for a URL path, keeping its `/` separators. */
export const encodeName = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

export class SwiftClient {
  readonly dispatcher: Agent;
  private session?: Promise<SwiftSession>;
  private established?: SwiftSession;

  constructor(
    readonly options: ResolvedSwiftOptions,
    private readonly logger: DriverLogger,
  ) {
    this.dispatcher = new Agent({
      connect: {
        timeout: options.connectTimeoutMs,
        rejectUnauthorized: !options.insecureSkipVerify,
        ...(options.ca ? { ca: options.ca } : {}),
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** The current session, authenticating (with retries) when there is none. */
  currentSession(): Promise<SwiftSession> {
    if (!this.session) {
      const started = withRetries({ retries: this.options.retries, delayMs: this.options.retryDelayMs }, 'swift authentication', this.logger, () =>
        authenticate(this.dispatcher, this.options),
      );
      this.session = started;
      started.then(
        (session) => {
          if (this.session === started) this.established = session;
        },
        () => {
          if (this.session === started) this.session = undefined;
        },
      );
    }
    return this.session;
  }

  /** Forgets a token Swift refused, unless a concurrent request already replaced it. */
  private renew(stale: SwiftSession): void {
    if (this.established === stale) {
      this.session = undefined;
      this.established = undefined;
    }
  }

  private async send(request: SwiftRequest, session: SwiftSession): Promise<Dispatcher.ResponseData> {
    const base = new URL(session.storageUrl);
    const query = request.query ? '?' + new URLSearchParams(request.query).toString().replace(/=(&|$)/g, '$1') : '';
    return this.dispatcher.request({
      origin: base.origin,
      path: base.pathname.replace(/\/+$/, '') + request.path + query,
      method: request.method,
      headers: { ...request.headers, 'x-auth-token': session.token },
      body: request.body,
    });
  }

  /**
   * One request, retried as a whole (status, headers and body) on failure. `read` consumes the body;
   * a connection dropped while reading it is retried too.
   */
  private async perform<B>(request: SwiftRequest, what: string, read: (response: Dispatcher.ResponseData) => Promise<B>): Promise<BackendResponse<B>> {
    return withRetries({ retries: this.options.retries, delayMs: this.options.retryDelayMs }, what, this.logger, async () => {
      for (let renewed = false; ; renewed = true) {
        const session = await this.currentSession();
        const response = await this.send(request, session);
        if (response.statusCode === 401 && !renewed) {
          await response.body.dump();
          this.logger.info({ what }, 'swift token rejected; authenticating again');
          this.renew(session);
          continue;
        }
        const accepted = (response.statusCode >= 200 && response.statusCode < 300) || (request.accept ?? []).includes(response.statusCode);
        if (!accepted) {
          // the body is never quoted: a backend or proxy may echo the request, token and TempURL key included
          await response.body.dump().catch(() => undefined);
          // 422: the body did not match the ETag we sent, i.e. it was damaged on the way; resending it is safe.
          const retriable = isRetriableStatus(response.statusCode) || response.statusCode === 422;
          throw new BackendError(`${what}: swift answered ${response.statusCode}`, response.statusCode, retriable);
        }
        return { status: response.statusCode, headers: response.headers, body: await read(response) };
      }
    });
  }

  /** A request whose (small) answer body is read whole. */
  request(request: SwiftRequest, what: string): Promise<BackendResponse<Buffer>> {
    return this.perform(request, what, async (response) => Buffer.from(await response.body.arrayBuffer()));
  }

  /** A request whose answer body is handed over as a stream (retries cover getting the headers only). */
  open(request: SwiftRequest, what: string): Promise<BackendResponse<Readable>> {
    return this.perform(request, what, async (response) => response.body);
  }

  private closed = false;

  /** Idempotent: the registry and its embedder may both close the driver. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }
}
