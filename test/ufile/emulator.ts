/**
 * A UCloud UFile (US3) emulator for tests and for running stowage against "UFile" on a laptop. Objects
 * live in memory. It enforces what the official SDKs and the API rely on: every request carries a valid
 * `UCloud` signature (header, or UCloudPublicKey/Expires/Signature in the URL; checked by ufile-verifier.ts,
 * written after UCloud's SDK sources, not with the plugin's signer) or gets a JSON
 * `{RetCode, ErrMsg}` error; multipart uploads use the server's BlkSize with 0-based part numbers, every
 * part but the last exactly BlkSize, finished with the comma-joined ETags (quoted or not, `newKey` or not);
 * `?listobjects` pages at most 1000 keys with prefix, marker and delimiter; ETags are UFile's
 * (URL-safe base64 of the block count and SHA-1). The numeric RetCode values are the emulator's own,
 * not the service's. Faults are injected through `faults` or `POST /__emulator/faults`.
 *
 * Standalone: `npx tsx test/ufile/emulator.ts --port 9001 [--bucket stowage] [--public-key PUB]
 *   [--private-key PRIV] [--blk-size 4194304]`
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { verify } from './ufile-verifier.js';
import { CONTROL_PREFIX, delayReply, dropReply, FaultInjector, handleControl, type LoggedRequest, parseFlags } from '../oss/emulator-faults.js';

export interface UFileEmulatorOptions {
  readonly port?: number;
  /** buckets served; the first also answers requests whose Host names no bucket (an IP address) */
  readonly buckets?: readonly string[];
  readonly publicKey?: string;
  readonly privateKey?: string;
  /** the multipart block size init returns */
  readonly blkSize?: number;
  /** answer ranged GETs with the whole object (200), to check clients that must cope with it */
  readonly ignoreRanges?: boolean;
}

export interface UFileObject {
  readonly data: Buffer;
  readonly etag: string;
  readonly mimeType: string;
  readonly created: Date;
  readonly modified: Date;
}

export interface UFileEmulator {
  readonly url: string;
  readonly port: number;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly blkSize: number;
  readonly faults: FaultInjector;
  readonly requests: LoggedRequest[];
  bucket(name: string): Map<string, UFileObject>;
  openUploads(): number;
  close(): Promise<void>;
}

const ETAG_BLOCK = 4 * 1024 * 1024;

/** UFile's ETag: URL-safe base64 of uint32le(block count) + SHA-1 (of the data, or of the per-4-MiB SHA-1s). */
export function ufileEtag(data: Buffer): string {
  const blocks = Math.ceil(data.length / ETAG_BLOCK);
  const count = Buffer.alloc(4);
  count.writeUInt32LE(blocks);
  let digest: Buffer;
  if (data.length <= ETAG_BLOCK) {
    digest = createHash('sha1').update(data).digest();
  } else {
    const outer = createHash('sha1');
    for (let at = 0; at < data.length; at += ETAG_BLOCK) outer.update(createHash('sha1').update(data.subarray(at, at + ETAG_BLOCK)).digest());
    digest = outer.digest();
  }
  return Buffer.concat([count, digest]).toString('base64url');
}

class UFileError extends Error {
  constructor(readonly status: number, readonly retCode: number, message: string) {
    super(message);
  }
}

interface Upload {
  readonly bucket: string;
  readonly key: string;
  readonly parts: Map<number, { data: Buffer; etag: string }>;
}

export async function startUFileEmulator(options: UFileEmulatorOptions = {}): Promise<UFileEmulator> {
  const publicKey = options.publicKey ?? 'emulator-public-key';
  const privateKey = options.privateKey ?? 'emulator-private-key';
  const blkSize = options.blkSize ?? 4 * 1024 * 1024;
  const bucketNames = options.buckets ?? ['stowage'];
  const buckets = new Map<string, Map<string, UFileObject>>(bucketNames.map((name) => [name, new Map()]));
  const uploads = new Map<string, Upload>();
  const faults = new FaultInjector();
  const requests: LoggedRequest[] = [];

  function bucketOf(req: http.IncomingMessage): string {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    for (const name of buckets.keys()) if (host.startsWith(`${name}.`)) return name;
    if (/^[\d.]+$/.test(host) || host === 'localhost' || host === '[::1]') return bucketNames[0]!;
    throw new UFileError(404, -30010, `bucket not found: ${host.split('.')[0]}`);
  }

  function authenticate(req: http.IncomingMessage, url: URL, bucket: string, key: string): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
    const method = req.method ?? 'GET';
    const check = (givenKey: string, given: string, dateSlot?: string) => {
      if (givenKey !== publicKey) throw new UFileError(403, -148652, 'public key not found');
      if (!verify({ method, bucket, key, headers }, privateKey, given, dateSlot)) throw new UFileError(403, -148653, 'signature not match');
    };
    const signature = url.searchParams.get('Signature');
    if (signature !== null) {
      const expires = Number(url.searchParams.get('Expires'));
      if (!Number.isInteger(expires)) throw new UFileError(400, -148655, 'Expires must be a unix time');
      if (expires * 1000 < Date.now()) throw new UFileError(403, -148654, 'url expired');
      check(url.searchParams.get('UCloudPublicKey') ?? '', signature, String(expires));
      return;
    }
    const match = /^UCloud ([^:]+):(.+)$/.exec(headers.authorization ?? '');
    if (!match) throw new UFileError(401, -148643, 'no authorization found');
    check(match[1]!, match[2]!);
  }

  async function readBody(req: http.IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function listObjects(bucket: string, url: URL): object {
    const q = url.searchParams;
    const prefix = q.get('prefix') ?? '';
    const marker = q.get('marker') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeysParam = q.get('max-keys');
    const maxKeys = maxKeysParam === null || maxKeysParam === '' ? 100 : Number(maxKeysParam);
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1000) throw new UFileError(400, -148660, 'max-keys must be between 1 and 1000');
    if (delimiter !== '' && delimiter !== '/') throw new UFileError(400, -148661, 'delimiter must be empty or /');
    const objects = buckets.get(bucket)!;
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > marker).sort();
    const contents: object[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = '';
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      const common = cut >= 0 ? prefix + rest.slice(0, cut + 1) : undefined;
      if (common !== undefined && (common <= marker || prefixes.includes(common))) continue;
      if (contents.length + prefixes.length === maxKeys) { truncated = true; break; }
      if (common !== undefined) {
        prefixes.push(common);
        last = common;
      } else {
        const object = objects.get(key)!;
        contents.push({
          Key: key, MimeType: object.mimeType, LastModified: Math.floor(object.modified.getTime() / 1000),
          CreateTime: Math.floor(object.created.getTime() / 1000), Etag: object.etag, Size: String(object.data.length),
          StorageClass: 'STANDARD', UserMeta: {},
        });
        last = key;
      }
    }
    return {
      Name: bucket, Prefix: prefix, MaxKeys: String(maxKeys), Delimiter: delimiter, IsTruncated: truncated,
      NextMarker: truncated ? last : '', Contents: contents, CommonPrefixes: prefixes.map((p) => ({ Prefix: p })),
    };
  }

  function prefixFileList(bucket: string, url: URL): object {
    const q = url.searchParams;
    const prefix = q.get('prefix') ?? '';
    const marker = q.get('marker') ?? '';
    const limit = q.get('limit') ? Number(q.get('limit')) : 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UFileError(400, -148660, 'limit must be between 1 and 1000');
    const objects = buckets.get(bucket)!;
    const keys = [...objects.keys()].filter((key) => key.startsWith(prefix) && key > marker).sort();
    const page = keys.slice(0, limit);
    return {
      BucketName: bucket, BucketId: `ufile-${bucket}`, NextMarker: keys.length > limit ? page[page.length - 1] : '',
      DataSet: page.map((key) => {
        const o = objects.get(key)!;
        return { BucketName: bucket, FileName: key, Hash: o.etag, MimeType: o.mimeType, Size: o.data.length, CreateTime: Math.floor(o.created.getTime() / 1000), ModifyTime: Math.floor(o.modified.getTime() / 1000), StorageClass: 'STANDARD' };
      }),
    };
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const bucket = bucketOf(req);
    const key = decodeURIComponent(url.pathname.slice(1));
    authenticate(req, url, bucket, key);
    const objects = buckets.get(bucket)!;
    const q = url.searchParams;
    const method = req.method ?? 'GET';
    const json = (status: number, body: object, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

    if (key === '') {
      await readBody(req);
      if (method === 'GET' && q.has('listobjects')) return void json(200, listObjects(bucket, url));
      if (method === 'GET' && q.has('list')) return void json(200, prefixFileList(bucket, url));
      throw new UFileError(400, -148662, 'unsupported bucket operation');
    }

    if (method === 'POST' && q.has('uploads')) {
      await readBody(req);
      const uploadId = randomBytes(12).toString('hex');
      uploads.set(uploadId, { bucket, key, parts: new Map() });
      return void json(200, { UploadId: uploadId, BlkSize: blkSize, Bucket: bucket, Key: key });
    }
    if (q.has('uploadId')) {
      const uploadId = q.get('uploadId') ?? '';
      const upload = uploads.get(uploadId);
      if (!upload || upload.bucket !== bucket || upload.key !== key) {
        await readBody(req);
        throw new UFileError(400, -148663, 'upload id not found');
      }
      if (method === 'PUT' && q.has('partNumber')) {
        const partNumber = Number(q.get('partNumber'));
        const body = await readBody(req);
        if (!Number.isInteger(partNumber) || partNumber < 0 || String(partNumber) !== q.get('partNumber')) {
          throw new UFileError(400, -148664, 'partNumber must be an integer from 0');
        }
        if (body.length > blkSize || body.length === 0) throw new UFileError(400, -148665, `part size must be between 1 and BlkSize (${blkSize})`);
        const etag = ufileEtag(body);
        upload.parts.set(partNumber, { data: body, etag });
        return void json(200, { PartNumber: partNumber }, { etag: `"${etag}"` });
      }
      if (method === 'POST') {
        const body = (await readBody(req)).toString('utf8').trim();
        const etags = body === '' ? [] : body.split(',').map((etag) => etag.trim().replace(/^"|"$/g, ''));
        if (etags.length !== upload.parts.size) throw new UFileError(400, -148666, `finish lists ${etags.length} parts but ${upload.parts.size} were uploaded`);
        const pieces: Buffer[] = [];
        etags.forEach((etag, index) => {
          const part = upload.parts.get(index);
          if (!part) throw new UFileError(400, -148667, `part ${index} was not uploaded (part numbers start at 0)`);
          if (part.etag !== etag) throw new UFileError(400, -148668, `etag of part ${index} does not match`);
          if (index < etags.length - 1 && part.data.length !== blkSize) throw new UFileError(400, -148669, `part ${index} is ${part.data.length} bytes; every part but the last must be BlkSize (${blkSize})`);
          pieces.push(part.data);
        });
        const data = Buffer.concat(pieces);
        const target = q.get('newKey') || key;
        const now = new Date();
        const object: UFileObject = { data, etag: ufileEtag(data), mimeType: 'application/octet-stream', created: now, modified: now };
        objects.set(target, object);
        uploads.delete(uploadId);
        return void json(200, { Bucket: bucket, Key: target, FileSize: data.length }, { etag: `"${object.etag}"` });
      }
      if (method === 'DELETE') {
        await readBody(req);
        uploads.delete(uploadId);
        return void res.writeHead(204).end();
      }
      throw new UFileError(400, -148662, 'unsupported multipart operation');
    }

    switch (method) {
      case 'PUT': {
        const body = await readBody(req);
        const givenMd5 = req.headers['content-md5'];
        if (typeof givenMd5 === 'string' && givenMd5 !== createHash('md5').update(body).digest('base64') && givenMd5 !== createHash('md5').update(body).digest('hex')) {
          throw new UFileError(400, -148670, 'content md5 does not match');
        }
        const now = new Date();
        const previous = objects.get(key);
        const object: UFileObject = { data: body, etag: ufileEtag(body), mimeType: req.headers['content-type'] ?? 'application/octet-stream', created: previous?.created ?? now, modified: now };
        objects.set(key, object);
        return void res.writeHead(200, { etag: `"${object.etag}"`, 'content-length': '0' }).end();
      }
      case 'GET':
      case 'HEAD': {
        await readBody(req);
        const object = objects.get(key);
        if (!object) throw new UFileError(404, -148654, 'file not exist');
        const size = object.data.length;
        const headers = { etag: `"${object.etag}"`, 'content-type': object.mimeType, 'last-modified': object.modified.toUTCString(), 'accept-ranges': 'bytes' };
        const rangeHeader = method === 'GET' && !options.ignoreRanges ? req.headers.range : undefined;
        if (rangeHeader) {
          const m = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader.trim());
          const start = m ? Number(m[1]) : NaN;
          const end = m && m[2] !== '' ? Math.min(Number(m[2]), size - 1) : size - 1;
          if (!m || start >= size || start > end) {
            throw new UFileError(416, -148671, `range ${rangeHeader} not satisfiable for ${size} bytes`);
          }
          res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': String(end - start + 1) });
          return void res.end(object.data.subarray(start, end + 1));
        }
        res.writeHead(200, { ...headers, 'content-length': String(size) });
        return void res.end(method === 'GET' ? object.data : undefined);
      }
      case 'DELETE':
        await readBody(req);
        if (!objects.delete(key)) throw new UFileError(404, -148654, 'file not exist');
        return void res.writeHead(204).end();
      default:
        throw new UFileError(405, -148662, `method ${method} not allowed`);
    }
  }

  const server = http.createServer((req, res) => {
    const sessionId = randomBytes(8).toString('hex');
    res.setHeader('x-sessionid', sessionId);
    const url = new URL(req.url ?? '/', 'http://emulator');
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      void handleControl(req, res, faults, requests);
      return;
    }
    const entry: LoggedRequest = { method: req.method ?? '', url: req.url ?? '/', status: 0 };
    res.on('finish', () => { entry.status = res.statusCode; });
    requests.push(entry);
    void (async () => {
      try {
        const fault = await faults.apply(req);
        if (fault.kind === 'reset') { req.socket.destroy(); return; }
        if (fault.kind === 'drop-response') dropReply(res);
        if (fault.kind === 'delay-reply') delayReply(res, fault.ms);
        if (fault.kind === 'status') {
          await readBody(req);
          throw new UFileError(fault.status, -1, 'injected fault: service unavailable, retry later');
        }
        await serve(req, res, url);
      } catch (err) {
        const error = err instanceof UFileError ? err : new UFileError(500, -1, 'internal error');
        if (!(err instanceof UFileError) && !req.destroyed) console.error('ufile emulator:', err);
        if (!req.complete) req.resume();
        if (res.headersSent) { res.destroy(); return; }
        const body = JSON.stringify({ RetCode: error.retCode, ErrMsg: error.message });
        res.writeHead(error.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    })();
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    publicKey,
    privateKey,
    blkSize,
    faults,
    requests,
    bucket: (name) => buckets.get(name) ?? new Map(),
    openUploads: () => uploads.size,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const flags = parseFlags(process.argv.slice(2));
  const bucket = flags.get('bucket') ?? 'stowage';
  const emulator = await startUFileEmulator({
    port: Number(flags.get('port') ?? 9001),
    buckets: [bucket],
    publicKey: flags.get('public-key'),
    privateKey: flags.get('private-key'),
    blkSize: flags.has('blk-size') ? Number(flags.get('blk-size')) : undefined,
  });
  console.log(`UFile emulator on ${emulator.url} (bucket ${bucket}, BlkSize ${emulator.blkSize}, public key ${emulator.publicKey})`);
  console.log(`stowage options: { baseurl: "http://127.0.0.1:${emulator.port}", bucket: "${bucket}", publickey: "${emulator.publicKey}", privatekey: "${emulator.privateKey}" }`);
  const stop = () => void emulator.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
