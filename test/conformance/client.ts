import { request } from 'undici';

/** One answer of the registry, with the accessors the conformance specs read. */
export class ConformanceResponse {
  constructor(
    readonly status: number,
    private readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Buffer,
    private readonly baseUrl: string,
  ) {}

  header(name: string): string {
    const value = this.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) ?? '';
  }

  text(): string {
    return this.body.toString('utf8');
  }

  /** The Location header as a path (plus query), the way a client reuses it against the same registry. */
  relativeLocation(): string {
    const location = this.header('Location');
    if (location === '') return '';
    const parsed = new URL(location, this.baseUrl);
    return parsed.pathname + parsed.search;
  }

  absoluteLocation(): string {
    const location = this.header('Location');
    if (location === '') return '';
    return new URL(location, this.baseUrl).toString();
  }

  /** The OCI error list of the body; throws when the body is not an OCI error document. */
  errors(): { code: string; message?: string; detail?: unknown }[] {
    const document = JSON.parse(this.text()) as { errors?: { code: string; message?: string; detail?: unknown }[] };
    if (!document || !Array.isArray(document.errors)) throw new Error(`not an OCI error body: ${this.text().slice(0, 200)}`);
    return document.errors;
  }
}

export interface RequestOptions {
  /** repository name for `<name>`; the client's namespace when omitted */
  readonly name?: string;
  readonly reference?: string;
  readonly digest?: string;
  /** query parameters added to those already in the path */
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The conformance client: requests built from path templates (`/v2/<name>/blobs/<digest>`), as the Go
 * suite's client builds them. Content-Length always follows the body actually sent (0 when there is none),
 * whatever header a spec names, because that is what goes on the wire from the Go suite too.
 */
export class ConformanceClient {
  constructor(
    readonly baseUrl: string,
    readonly namespace: string,
    /** sent with every request unless a spec sets its own */
    readonly authorization?: string,
  ) {}

  url(template: string, options: RequestOptions = {}): string {
    const path = template
      .replaceAll('<name>', options.name ?? this.namespace)
      .replaceAll('<reference>', options.reference ?? '')
      .replaceAll('<digest>', options.digest ?? '');
    const url = new URL(path, this.baseUrl);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.append(key, value);
    return url.toString();
  }

  async send(method: Method, template: string, options: RequestOptions = {}): Promise<ConformanceResponse> {
    const headers: Record<string, string> = { 'user-agent': 'stowage-conformance-port' };
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (key.toLowerCase() !== 'content-length') headers[key.toLowerCase()] = value;
    }
    const body = options.body && options.body.length > 0 ? Buffer.from(options.body) : undefined;
    if (!body && (method === 'POST' || method === 'PUT' || method === 'PATCH')) headers['content-length'] = '0';
    const response = await request(this.url(template, options), { method, headers, body });
    const received = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await response.body.arrayBuffer());
    if (method === 'HEAD') await response.body.dump();
    return new ConformanceResponse(response.statusCode, response.headers, received, this.baseUrl);
  }
}
