/**
 * HTTP/1.1 over a bare TCP socket: the request goes on the wire byte for byte as written (backslashes, dot
 * segments, repeated or missing Host, CONNECT), which no HTTP client library lets a test do.
 */
import net from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** the `errors[0].code` of an OCI error body, when it is one */
  readonly errorCode: string | undefined;
}

export interface RawRequest {
  readonly method: string;
  /** the request target exactly as it goes on the request line */
  readonly target: string;
  /** header lines; `Host` and `Connection: close` are added unless `omitHost` / given here */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string | Uint8Array;
  readonly omitHost?: boolean;
}

/** Sends one request on a fresh connection (with `Connection: close`) and reads the answer until the server closes. */
export async function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  const lines = [`${request.method} ${request.target} HTTP/1.1`];
  if (!request.omitHost) lines.push(`Host: ${hostname}:${port}`);
  for (const [name, value] of request.headers ?? []) lines.push(`${name}: ${value}`);
  if (body) lines.push(`Content-Length: ${body.length}`);
  lines.push('Connection: close');
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.write(body ? Buffer.concat([head, body]) : head);
  });
  return parseResponse(bytes, request.method === 'HEAD');
}

export function parseResponse(bytes: Buffer, headOnly = false): RawResponse {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete HTTP response: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = headOnly ? Buffer.alloc(0) : bytes.subarray(end + 4);
  if (!headOnly && headers['transfer-encoding']?.includes('chunked')) body = unchunk(body);
  else if (!headOnly && headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  let errorCode: string | undefined;
  if (headers['content-type']?.startsWith('application/json') && body.length > 0) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: unknown }[] };
      const code = parsed.errors?.[0]?.code;
      errorCode = typeof code === 'string' ? code : undefined;
    } catch {
      errorCode = undefined;
    }
  }
  return { status, headers, body, errorCode };
}

function unchunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!size) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
