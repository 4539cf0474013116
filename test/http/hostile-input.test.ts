import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { startRegistry, type RunningRegistry } from '../../src/embed.js';
import { parseResponse, rawRequest } from '../support/raw-http.js';
import { storageSnapshot } from '../support/storage-snapshot.js';
import { inMemoryDriver } from './support/registry.js';

const sha256 = (content: Uint8Array | string): string => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface LogLine {
  readonly level: number;
  readonly msg: string;
}

describe('hostile input and slow clients', () => {
  let registry: RunningRegistry;
  const driver = inMemoryDriver();
  const logLines: LogLine[] = [];
  let logged: (() => void) | undefined;
  const snapshot = (): Promise<Map<string, string>> => storageSnapshot(driver);

  beforeAll(async () => {
    const logger = createLogger({
      level: 'debug',
      destination: {
        write(line: string) {
          logLines.push(JSON.parse(line) as LogLine);
          logged?.();
        },
      },
    });
    // no catalog index upkeep: storage is compared before and after each request, which a reconcile would change
    registry = await startRegistry({ driver, deleteEnabled: true, logger, http: { bodyidletimeout: '500ms' }, catalog: false });
  });
  afterAll(async () => {
    await registry.close();
    await driver.close?.();
  });

  const startUpload = async (name: string): Promise<string> => {
    const response = await rawRequest(registry.url, { method: 'POST', target: `/v2/${name}/blobs/uploads/` });
    expect(response.status).toBe(202);
    return response.headers.location!;
  };

  /** Sends the head and `sent` bytes of a body announced as `declared` bytes, then keeps the socket open and silent. */
  const stallingPatch = (location: string, declared: number, sent: Buffer) =>
    new Promise<{ closedBy: 'server'; answer: Buffer }>((resolve, reject) => {
      const { hostname, port } = new URL(registry.url);
      const socket = net.connect(Number(port), hostname);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ closedBy: 'server', answer: Buffer.concat(chunks) }));
      socket.on('connect', () => {
        socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`);
        socket.write(sent);
      });
      setTimeout(() => reject(new Error('the server never cut the stalled body')), 30_000).unref();
    });

  it('a PATCH whose body stalls is cut after http.bodyidletimeout; the bytes received are kept and the upload resumes', async () => {
    const blob = Buffer.alloc(200_000, 7);
    for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) % 251;
    const location = await startUpload('slow/client');
    const first = blob.subarray(0, 65_536);
    const cut = await stallingPatch(location, blob.length, first);
    expect(cut.closedBy).toBe('server');

    const status = await rawRequest(registry.url, { method: 'GET', target: location });
    expect(status.status).toBe(204);
    expect(status.headers.range).toBe(`0-${first.length - 1}`);

    const rest = await rawRequest(registry.url, {
      method: 'PATCH',
      target: status.headers.location!,
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Content-Range', `${first.length}-${blob.length - 1}`],
      ],
      body: blob.subarray(first.length),
    });
    expect(rest.status).toBe(202);
    const digest = sha256(blob);
    const done = await rawRequest(registry.url, { method: 'PUT', target: `${rest.headers.location!}${rest.headers.location!.includes('?') ? '&' : '?'}digest=${digest}` });
    expect(done.status).toBe(201);
    const pulled = await rawRequest(registry.url, { method: 'GET', target: `/v2/slow/client/blobs/${digest}` });
    expect(sha256(pulled.body)).toBe(digest);
  });

  it('a client that drops an upload mid-body is logged at debug, never at error', async () => {
    const location = await startUpload('gone/client');
    const before = logLines.length;
    const wentAway = new Promise<void>((resolve) => {
      logged = () => {
        // the request's own line comes last, once its handler is done
        if (logLines.slice(before).some((line) => line.msg === 'request')) resolve();
      };
    });
    const { hostname, port } = new URL(registry.url);
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Length: 100000\r\n\r\n`);
      socket.write(Buffer.alloc(10_000, 1), () => socket.destroy());
    });
    socket.on('error', () => undefined);
    await wentAway;
    logged = undefined;
    const lines = logLines.slice(before);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.find((line) => line.msg === 'client went away')?.level).toBe(20);
  });

  it('a request without Host, or with two, answers 400 in OCI error JSON', async () => {
    const missing = await rawRequest(registry.url, { method: 'GET', target: '/v2/', omitHost: true });
    expect(missing.status).toBe(400);
    expect(missing.errorCode).toBe('UNSUPPORTED');
    const twice = await rawRequest(registry.url, { method: 'GET', target: '/v2/', headers: [['Host', 'other.example']] });
    expect(twice.status).toBe(400);
    expect(twice.errorCode).toBe('UNSUPPORTED');
    expect(twice.headers['docker-distribution-api-version']).toBe('registry/2.0');
  });

  it('CONNECT answers 405 in OCI error JSON instead of leaving the socket hanging', async () => {
    const response = await rawRequest(registry.url, { method: 'CONNECT', target: 'internal.example:443' });
    expect(response.status).toBe(405);
    expect(response.errorCode).toBe('UNSUPPORTED');
  });

  it('a URL over 8 KiB is 414 and request headers over 16 KiB are 431, both OCI error JSON', async () => {
    const longUrl = await rawRequest(registry.url, { method: 'GET', target: `/v2/${'a/'.repeat(4200)}tags/list` });
    expect(longUrl.status).toBe(414);
    expect(longUrl.errorCode).toBe('UNSUPPORTED');
    const bigHeaders = await rawRequest(registry.url, { method: 'GET', target: '/v2/', headers: [['X-Filler', 'x'.repeat(17 * 1024)]] });
    expect(bigHeaders.status).toBe(431);
    expect(bigHeaders.errorCode).toBe('UNSUPPORTED');
  });

  describe('manifests JSON parsers elsewhere refuse are refused', () => {
    let config = '';
    beforeAll(async () => {
      const location = await startUpload('shape/repo');
      config = sha256('{}');
      const put = await rawRequest(registry.url, { method: 'PUT', target: `${location}${location.includes('?') ? '&' : '?'}digest=${config}`, body: '{}' });
      expect(put.status).toBe(201);
    });
    const manifest = (extra: string) =>
      `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${config}","size":2},"layers":[]${extra}}`;
    const push = (body: Buffer | string, reference = 'v1') =>
      rawRequest(registry.url, { method: 'PUT', target: `/v2/shape/repo/manifests/${reference}`, headers: [['Content-Type', OCI_MANIFEST]], body });

    it('a manifest starting with a UTF-8 BOM is 400 MANIFEST_INVALID, by tag and by digest, and nothing is stored', async () => {
      const before = await snapshot();
      const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(manifest(''))]);
      for (const reference of ['bom', sha256(body)]) {
        const response = await push(body, reference);
        expect({ reference, status: response.status, code: response.errorCode }).toEqual({ reference, status: 400, code: 'MANIFEST_INVALID' });
      }
      expect(await snapshot()).toEqual(before);
    });

    it('a manifest nesting 100,000 levels deep in an annotation-like field is 400 MANIFEST_INVALID, and nothing is stored', async () => {
      const before = await snapshot();
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const response = await push(manifest(`,"x-extra":${deep}`), 'deep');
      expect(response.status).toBe(400);
      expect(response.errorCode).toBe('MANIFEST_INVALID');
      expect(await snapshot()).toEqual(before);
    });

    it('a manifest nesting 65 levels is refused, 20 levels and brackets inside strings are accepted', async () => {
      const nested = (levels: number) => `${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`;
      // the manifest itself is level 1
      expect((await push(manifest(`,"x":${nested(64)}`), 'too-deep')).status).toBe(400);
      const ok = await push(manifest(`,"x":${nested(20)},"annotations":{"s":"${'[{'.repeat(500)}"}`), 'fine');
      expect(ok.status).toBe(201);
    });
  });

  it('a malformed request line still gets OCI error JSON', async () => {
    const { hostname, port } = new URL(registry.url);
    const bytes = await new Promise<Buffer>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => socket.write('GET /v2/\u0001 HTTP/1.1\r\nHost: x\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    const response = parseResponse(bytes);
    expect(response.status).toBe(400);
    expect(response.errorCode).toBe('UNSUPPORTED');
  });
});
