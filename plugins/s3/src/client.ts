/**
 * The S3 HTTP client: undici, SigV4 on every request, and retries with backoff on network failures
 * and overload statuses (bodies are buffers, so a retry resends and re-signs the same bytes).
 */
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { DriverLogger } from 'stowage';
import { BackendError, type BackendResponse, isRetriableStatus, withRetries } from '@stowage/backend-kit';
import type { ResolvedS3Options } from './options.js';
import { encodeKeyPath, EMPTY_SHA256, presignQuery, sha256Hex, signHeaders, uriEncode } from './sigv4.js';
import { text } from './xml.js';

const RETRIABLE_CODES = new Set(['SlowDown', 'InternalError', 'RequestTimeout', 'BadDigest', 'IncompleteBody', 'XAmzContentSHA256Mismatch', 'ServiceUnavailable']);

export interface S3Request {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** the object key; undefined addresses the bucket */
  readonly key?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array | string;
  /** statuses handed back to the caller instead of thrown; 2xx always are */
  readonly accept?: readonly number[];
}

export class S3Client {
  readonly dispatcher: Agent;
  private readonly origin: string;
  private readonly host: string;

  constructor(
    readonly options: ResolvedS3Options,
    private readonly logger: DriverLogger,
  ) {
    const endpoint = new URL(options.endpoint);
    if (!options.pathStyle) endpoint.hostname = `${options.bucket}.${endpoint.hostname}`;
    this.origin = endpoint.origin;
    this.host = endpoint.host;
    this.dispatcher = new Agent({
      connect: { timeout: options.connectTimeoutMs, rejectUnauthorized: !options.skipVerify },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  private path(key: string | undefined): string {
    const bucketPart = this.options.pathStyle ? `/${uriEncode(this.options.bucket)}` : '';
    if (key === undefined) return bucketPart === '' ? '/' : `${bucketPart}/`;
    return `${bucketPart}/${encodeKeyPath(key)}`;
  }

  private send(request: S3Request): Promise<Dispatcher.ResponseData> {
    const path = this.path(request.key);
    const query = request.query ?? {};
    const body = request.body;
    const payloadHash = body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
    const headers = signHeaders(
      { method: request.method, host: this.host, path, query, headers: { ...request.headers }, payloadHash },
      this.options,
      this.options.region,
    );
    headers['user-agent'] = this.options.userAgent;
    const search = Object.keys(query).length > 0 ? '?' + Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&') : '';
    return this.dispatcher.request({ origin: this.origin, path: path + search, method: request.method, headers, body });
  }

  private perform<B>(request: S3Request, what: string, read: (response: Dispatcher.ResponseData) => Promise<B>): Promise<BackendResponse<B>> {
    return withRetries({ retries: this.options.retries, delayMs: this.options.retryDelayMs }, what, this.logger, async () => {
      const response = await this.send(request);
      const accepted = (response.statusCode >= 200 && response.statusCode < 300) || (request.accept ?? []).includes(response.statusCode);
      if (!accepted) {
        const detail = await response.body.text().catch(() => '');
        const code = text(detail, 'Code');
        throw new BackendError(
          `${what}: S3 answered ${response.statusCode}${code ? ` ${code}` : ''}`,
          response.statusCode,
          // BadDigest and friends: the body was damaged on the way; the request is resent from its buffer.
          isRetriableStatus(response.statusCode) || (code !== undefined && RETRIABLE_CODES.has(code)),
        );
      }
      return { status: response.statusCode, headers: response.headers, body: await read(response) };
    });
  }

  request(request: S3Request, what: string): Promise<BackendResponse<Buffer>> {
    return this.perform(request, what, async (response) => Buffer.from(await response.body.arrayBuffer()));
  }

  open(request: S3Request, what: string): Promise<BackendResponse<Readable>> {
    return this.perform(request, what, async (response) => response.body);
  }

  presign(method: 'GET' | 'HEAD', key: string, expiresIn: number): string {
    const path = this.path(key);
    const query = presignQuery({ method, host: this.host, path }, this.options, this.options.region, expiresIn);
    return `${this.origin}${path}?${Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&')}`;
  }

  private closed = false;

  /** Idempotent: the registry and its embedder may both close the driver. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }
}
