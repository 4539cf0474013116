/**
 * What the object-store driver needs from a vendor's API. The alioss, ufile, s3 and swift plugins each
 * implement it over their own signed HTTP calls; object-driver.ts and object-writer.ts build the storage
 * driver contract on top, once for every vendor whose API has keys, delimiter listings and multipart
 * uploads (Swift's are segment objects assembled by a Static Large Object manifest).
 */
import type { Readable } from 'node:stream';
import type { RetryPolicy } from './retry.js';

export interface ObjectHead {
  readonly size: number;
  readonly modified: Date;
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly modified: Date;
}

export interface ListPage {
  readonly objects: readonly ListedObject[];
  /** common prefixes, each ending in the delimiter */
  readonly prefixes: readonly string[];
  /** where the next page starts; undefined on the last page */
  readonly nextMarker?: string;
}

/** A part an upload holds: the ETag the service gave it and its size (a Swift SLO manifest lists both). */
export interface UploadedPart {
  readonly etag: string;
  readonly size: number;
}

export interface MultipartUpload {
  readonly uploadId: string;
  /** the size every part but the last must have */
  readonly partSize: number;
}

/** An object's bytes from an offset: the reply body, how many bytes it carries, and the version it is of. */
export interface RangeRead {
  readonly body: Readable;
  readonly length: number;
  /** the object's ETag: a read resumed after a dropped connection refuses another version */
  readonly etag?: string;
}

export type RangeResult = RangeRead | 'not-found' | 'unsatisfiable';

export interface ObjectStore {
  /** the part size to buffer towards before an upload exists (the upload may then ask for another) */
  readonly partSizeHint: number;
  /** objects up to this size are copied by the service; larger ones are streamed through a writer */
  readonly serverCopyLimit: number;
  /** parts double in size every 250 (partSizeAfter), for services that allow 1000 parts an upload */
  readonly growingParts?: boolean;
  /** how often, and how far apart, a read whose connection dropped is resumed */
  readonly readRetries: RetryPolicy;
  head(key: string): Promise<ObjectHead | undefined>;
  get(key: string): Promise<Buffer | undefined>;
  /** the object from `offset` (0: the whole object) as a stream */
  getFrom(key: string, offset: number): Promise<RangeResult>;
  put(key: string, body: Buffer): Promise<void>;
  /**
   * Writes only when nothing is at the key, atomically (S3 `If-None-Match: *`, OSS
   * `x-oss-forbid-overwrite`, Swift `If-None-Match: *`): false when something was. A store without
   * such a write leaves it out, or answers 'unsupported' when the service turns out not to have it
   * (Swift's s3api: 501); writers then fall back to claims checked by listing.
   */
  putIfAbsent?(key: string, body: Buffer): Promise<boolean | 'unsupported'>;
  /** deletes the keys; missing keys are not an error */
  deleteKeys(keys: readonly string[]): Promise<void>;
  /**
   * For services whose large objects are manifests over parts that stay objects of their own (Swift's
   * Static Large Objects): deletes content objects together with their parts (`?multipart-manifest=delete`),
   * so none is left behind. The driver deletes content with it, sidecars with deleteKeys; a store
   * without it deletes content with deleteKeys too.
   */
  deleteContent?(keys: readonly string[]): Promise<void>;
  list(prefix: string, delimiter: string, marker: string | undefined, limit: number): Promise<ListPage>;
  /**
   * service-side copy; only called for sources up to serverCopyLimit. The source is deleted with
   * deleteKeys afterwards (a move), so a store whose copy shares the source's parts (a Swift SLO copied
   * as its manifest) hands them to the destination; it also drops the parts of what the destination held.
   */
  copy?(sourceKey: string, destKey: string, size: number): Promise<void>;
  initMultipart(key: string): Promise<MultipartUpload>;
  /**
   * `index` counts from 0; the store maps it onto the vendor's numbering. Returns the part's ETag. `data` is
   * the caller's again once the returned promise resolves (the writer fills the same buffer with the next
   * part): a store must not keep it, nor read it after.
   */
  uploadPart(key: string, uploadId: string, index: number, data: Buffer): Promise<string>;
  /**
   * `parts` in order, with their sizes; `size` is their total: when a retried complete finds the upload
   * gone because the first attempt did complete it, an object of that size at the key counts as success.
   */
  completeMultipart(key: string, uploadId: string, parts: readonly UploadedPart[], size: number): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
  /** a URL the client may fetch the object from itself; undefined when the store has none to give (Swift without a TempURL key) */
  presign(key: string, method: 'GET' | 'HEAD', expiresIn: number): string | undefined | Promise<string | undefined>;
  close(): Promise<void>;
}

/** An error that is not one of the contract's codes: the backend failed. */
export function storageFailed(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'STORAGE_FAILED' });
}

/** Every key under `prefix`, through as many listing pages as it takes. */
export async function keysUnder(store: Pick<ObjectStore, 'list'>, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let marker: string | undefined;
  do {
    const page = await store.list(prefix, '', marker, 1000);
    keys.push(...page.objects.map((object) => object.key));
    marker = page.nextMarker;
  } while (marker);
  return keys;
}
