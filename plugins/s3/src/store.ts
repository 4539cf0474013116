/** Object-level S3 operations on the driver's bucket; knows nothing of stowage paths. */
import { createHash } from 'node:crypto';
import { BackendError, headerValue } from '@stowage/backend-kit';
import type { S3Client } from './client.js';
import { uriEncode } from './sigv4.js';
import { decodeXml, elements, encodeXml, text } from './xml.js';

export interface ObjectInfo {
  readonly size: number;
  readonly modTime: Date;
  readonly etag: string;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface Part {
  readonly number: number;
  readonly etag: string;
  readonly size: number;
}

export interface ListingPage {
  readonly keys: { key: string; size: number; modified?: string }[];
  readonly prefixes: string[];
}

const md5Base64 = (data: Uint8Array | string): string => createHash('md5').update(data).digest('base64');

export class S3Store {
  constructor(readonly client: S3Client) {}

  private get options() {
    return this.client.options;
  }

  /** Headers every new object (or multipart upload) gets: storage class, encryption, ACL. */
  private creationHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'x-amz-acl': this.options.objectAcl };
    if (this.options.storageClass) headers['x-amz-storage-class'] = this.options.storageClass;
    if (this.options.encrypt) {
      headers['x-amz-server-side-encryption'] = this.options.keyId ? 'aws:kms' : 'AES256';
      if (this.options.keyId) headers['x-amz-server-side-encryption-aws-kms-key-id'] = this.options.keyId;
    }
    return headers;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const response = await this.client.request({ method: 'HEAD', key, accept: [404] }, `stat ${key}`);
    if (response.status === 404) return undefined;
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name.slice(11)] = Array.isArray(value) ? value[0]! : value;
    }
    return {
      size: Number(headerValue(response.headers, 'content-length') ?? 0),
      modTime: new Date(headerValue(response.headers, 'last-modified') ?? Date.now()),
      etag: headerValue(response.headers, 'etag') ?? '',
      metadata,
    };
  }

  async get(key: string): Promise<Buffer | undefined> {
    const response = await this.client.request({ method: 'GET', key, accept: [404] }, `get ${key}`);
    return response.status === 404 ? undefined : response.body;
  }

  /** Content-MD5 makes the server refuse a body damaged on the way instead of storing it. */
  async put(key: string, content: Uint8Array, metadata: Record<string, string> = {}): Promise<void> {
    const headers: Record<string, string> = { ...this.creationHeaders(), 'content-md5': md5Base64(content) };
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    await this.client.request({ method: 'PUT', key, headers, body: content }, `put ${key}`);
  }

  async deleteOne(key: string): Promise<void> {
    await this.client.request({ method: 'DELETE', key, accept: [404] }, `delete ${key}`);
  }

  /** DeleteObjects, 1000 keys a request; missing keys are not errors. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      const body = `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${batch.map((k) => `<Object><Key>${encodeXml(k)}</Key></Object>`).join('')}</Delete>`;
      const response = await this.client.request(
        { method: 'POST', query: { delete: '' }, headers: { 'content-type': 'application/xml', 'content-md5': md5Base64(body) }, body },
        `delete ${batch.length} objects`,
      );
      const errors = elements(response.body.toString('utf8'), 'Error').filter((e) => text(e, 'Code') !== 'NoSuchKey');
      if (errors.length > 0) throw new BackendError(`delete objects: ${errors.length} failed, first ${text(errors[0]!, 'Key')}: ${text(errors[0]!, 'Code')}`);
    }
  }

  async listPage(prefix: string, delimiter: string | undefined, token: string | undefined, maxKeys: number): Promise<ListingPage & { next?: string }> {
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': String(maxKeys) };
    if (delimiter) query.delimiter = delimiter;
    if (token) query['continuation-token'] = token;
    const response = await this.client.request({ method: 'GET', query }, `list ${prefix}`);
    const xml = response.body.toString('utf8');
    const keys = elements(xml, 'Contents').map((c) => ({ key: text(c, 'Key') ?? '', size: Number(text(c, 'Size') ?? 0), modified: text(c, 'LastModified') }));
    const prefixes = elements(xml, 'CommonPrefixes').map((c) => text(c, 'Prefix') ?? '');
    const truncated = text(xml, 'IsTruncated') === 'true';
    return { keys, prefixes, next: truncated ? text(xml, 'NextContinuationToken') : undefined };
  }

  /** Pages through ListObjectsV2 (at most 1000 keys an answer). */
  async *list(prefix: string, delimiter?: string): AsyncGenerator<{ key?: string; prefix?: string; size?: number; modified?: string }> {
    let token: string | undefined;
    do {
      const page = await this.listPage(prefix, delimiter, token, this.options.listPageSize);
      for (const entry of page.keys) yield entry;
      for (const commonPrefix of page.prefixes) yield { prefix: commonPrefix };
      token = page.next;
    } while (token);
  }

  async createMultipart(key: string): Promise<string> {
    const response = await this.client.request({ method: 'POST', key, query: { uploads: '' }, headers: this.creationHeaders() }, `start upload ${key}`);
    const uploadId = text(response.body.toString('utf8'), 'UploadId');
    if (!uploadId) throw new BackendError(`start upload ${key}: no UploadId in the answer`);
    return uploadId;
  }

  async uploadPart(key: string, uploadId: string, number: number, data: Uint8Array): Promise<Part> {
    const response = await this.client.request(
      { method: 'PUT', key, query: { partNumber: String(number), uploadId }, headers: { 'content-md5': md5Base64(data) }, body: data },
      `upload part ${number} of ${key}`,
    );
    return { number, etag: headerValue(response.headers, 'etag') ?? '', size: data.length };
  }

  async uploadPartCopy(key: string, uploadId: string, number: number, source: string, start: number, end: number): Promise<Part> {
    const response = await this.client.request(
      {
        method: 'PUT',
        key,
        query: { partNumber: String(number), uploadId },
        headers: { 'x-amz-copy-source': `/${uriEncode(this.options.bucket)}/${source.split('/').map(uriEncode).join('/')}`, 'x-amz-copy-source-range': `bytes=${start}-${end - 1}` },
      },
      `copy part ${number} of ${key}`,
    );
    const etag = text(response.body.toString('utf8'), 'ETag');
    if (!etag) throw new BackendError(`copy part ${number} of ${key}: no ETag in the answer`);
    return { number, etag, size: end - start };
  }

  /** Parts of an upload, or undefined when the upload no longer exists. */
  async listParts(key: string, uploadId: string): Promise<Part[] | undefined> {
    const parts: Part[] = [];
    let marker = '0';
    for (;;) {
      const response = await this.client.request(
        { method: 'GET', key, query: { uploadId, 'part-number-marker': marker, 'max-parts': '1000' }, accept: [404] },
        `list parts of ${key}`,
      );
      if (response.status === 404) return undefined;
      const xml = response.body.toString('utf8');
      for (const part of elements(xml, 'Part')) {
        parts.push({ number: Number(text(part, 'PartNumber')), etag: decodeXml(text(part, 'ETag') ?? ''), size: Number(text(part, 'Size')) });
      }
      if (text(xml, 'IsTruncated') !== 'true') return parts.sort((a, b) => a.number - b.number);
      marker = text(xml, 'NextPartNumberMarker') ?? String(parts[parts.length - 1]?.number ?? 0);
    }
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly Part[]): Promise<void> {
    const body = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload>${parts
      .map((p) => `<Part><PartNumber>${p.number}</PartNumber><ETag>${encodeXml(p.etag)}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    const response = await this.client.request(
      { method: 'POST', key, query: { uploadId }, headers: { 'content-type': 'application/xml' }, body, accept: [404] },
      `complete upload ${key}`,
    );
    if (response.status === 404) {
      // A retry after a lost reply finds the upload already completed: the object is there, whole.
      const expected = parts.reduce((sum, p) => sum + p.size, 0);
      const info = await this.head(key);
      if (info && info.size === expected) return;
      throw new BackendError(`complete upload ${key}: the upload no longer exists`, 404);
    }
    // S3 may answer 200 with an error document once it has started streaming its reply.
    const xml = response.body.toString('utf8');
    if (xml.includes('<Error>')) throw new BackendError(`complete upload ${key}: ${text(xml, 'Code') ?? 'error'}`, 500, true);
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.request({ method: 'DELETE', key, query: { uploadId }, accept: [404] }, `abort upload ${key}`);
  }

  async copyObject(source: string, destination: string): Promise<void> {
    const response = await this.client.request(
      {
        method: 'PUT',
        key: destination,
        headers: { ...this.creationHeaders(), 'x-amz-copy-source': `/${uriEncode(this.options.bucket)}/${source.split('/').map(uriEncode).join('/')}`, 'x-amz-metadata-directive': 'REPLACE' },
      },
      `copy ${source} to ${destination}`,
    );
    const xml = response.body.toString('utf8');
    if (xml.includes('<Error>')) throw new BackendError(`copy ${source}: ${text(xml, 'Code') ?? 'error'}`, 500, true);
  }
}
