/**
 * The Swift client: the backend kit's HttpClient (the one HTTP client of the object-store drivers:
 * retries decided by the kit's classifier, exponential backoff, timeouts, TLS) with Swift's session
 * on top: a cached token, sent on every request and renewed once when Swift answers 401. Swift's own
 * word on a retry: 422, its answer to a body that does not match the ETag sent, means the body was
 * damaged on the way, and resending it is safe (bodies are replayable buffers).
 */
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { DriverLogger } from 'stowage';
import { BackendError, type BackendResponse, type BufferedReply, HttpClient, withRetries } from '@stowage/backend-kit';
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
  /** the caller went away: no further attempt is sent (checked before each one, retries included) */
  readonly signal?: AbortSignal;
}

/** Encodes an object name for a URL path, keeping its `/` separators. */
export const encodeName = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

export class SwiftClient {
  private readonly http: HttpClient;
  private session?: Promise<SwiftSession>;
  private established?: SwiftSession;
  /** the session the request being built uses, so a 401 renews exactly that one */
  private lastUsed?: SwiftSession;

  constructor(
    readonly options: ResolvedSwiftOptions,
    private readonly logger: DriverLogger,
  ) {
    this.http = new HttpClient({
      driver: 'swift',
      retries: options.retries,
      retryIntervalMs: options.retryDelayMs,
      backoff: true,
      timeoutMs: options.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      tls: { rejectUnauthorized: !options.insecureSkipVerify, ...(options.ca ? { ca: options.ca } : {}) },
      logger,
      retriableReply: (reply: BufferedReply) => reply.status === 422,
      renewCredentials: async () => {
        this.logger.info({}, 'swift token rejected; authenticating again');
        if (this.lastUsed) this.renew(this.lastUsed);
        return true;
      },
    });
  }

  /** The connection pool, for authentication and `/info`. */
  get dispatcher(): Dispatcher {
    return this.http.dispatcher;
  }

  /** The current session, authenticating (with retries) when there is none. */
  currentSession(): Promise<SwiftSession> {
    if (!this.session) {
      const started = withRetries({ retries: this.options.retries, delayMs: this.options.retryDelayMs }, 'swift authentication', this.logger, () =>
        authenticate(this.http.dispatcher, this.options),
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

  private build(request: SwiftRequest): () => Promise<{ method: string; url: string; headers: Record<string, string>; body?: Buffer | string }> {
    return async () => {
      request.signal?.throwIfAborted();
      const session = await this.currentSession();
      this.lastUsed = session;
      const base = new URL(session.storageUrl);
      const query = request.query ? '?' + new URLSearchParams(request.query).toString().replace(/=(&|$)/g, '$1') : '';
      const body = request.body === undefined || typeof request.body === 'string' ? request.body : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
      return {
        method: request.method,
        url: `${base.origin}${base.pathname.replace(/\/+$/, '')}${request.path}${query}`,
        headers: { ...request.headers, 'x-auth-token': session.token },
        body,
      };
    };
  }

  private refuse(request: SwiftRequest, what: string, reply: BufferedReply): BackendError | undefined {
    const accepted = (reply.status >= 200 && reply.status < 300) || (request.accept ?? []).includes(reply.status);
    if (accepted) return undefined;
    const detail = reply.body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ');
    return new BackendError(`${what}: swift answered ${reply.status}${detail ? ` (${detail})` : ''}`, reply.status);
  }

  /** A request whose (small) answer body is read whole. */
  async request(request: SwiftRequest, what: string): Promise<BackendResponse<Buffer>> {
    const reply = await this.http.call(this.build(request), what);
    const refused = this.refuse(request, what, reply);
    if (refused) throw refused;
    return reply;
  }

  /** A request whose answer body is handed over as a stream (retries cover getting the headers only). */
  async open(request: SwiftRequest, what: string): Promise<BackendResponse<Readable>> {
    const reply = await this.http.open(this.build(request), what);
    if (Buffer.isBuffer(reply.body)) {
      const refused = this.refuse(request, what, reply as BufferedReply);
      if (refused) throw refused;
      return { status: reply.status, headers: reply.headers, body: Readable.from(reply.body.length > 0 ? [reply.body] : []) };
    }
    return { status: reply.status, headers: reply.headers, body: reply.body };
  }

  /** Idempotent: the registry and its embedder may both close the driver. */
  async close(): Promise<void> {
    await this.http.close();
  }
}
