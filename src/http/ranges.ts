/** Parsing of the Range (blob reads) and Content-Range (upload chunks) request headers. */
import type { ChunkRange } from '../registry/index.js';
import { HttpError } from './errors.js';

export interface ByteRange {
  readonly start: number;
  /** inclusive */
  readonly end: number;
}

/**
 * A single `bytes=` range of a blob of `size` bytes; undefined when the header is absent or not a
 * single byte range (served as a whole blob, as RFC 9110 allows); 416 when it cannot be satisfied.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  let start: number;
  let end: number;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return undefined;
  }
  if (start >= size || end < start) throw unsatisfiable(size);
  return { start, end };
}

const unsatisfiable = (size: number): HttpError =>
  new HttpError(416, 'RANGE_INVALID', `requested range cannot be satisfied by a blob of ${size} bytes`, { size }, { 'Content-Range': `bytes */${size}` });

/**
 * An upload chunk's `Content-Range`: the spec's `<start>-<end>` (inclusive); distribution's clients
 * also send `bytes <start>-<end>/<total>` or `bytes=<start>-<end>`, accepted too.
 */
export function parseContentRange(header: string | undefined, contentLength: number | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) {
    throw new HttpError(416, 'BLOB_UPLOAD_INVALID', `invalid Content-Range ${JSON.stringify(header)}: expected <start>-<end>`, { contentRange: header });
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) {
    throw new HttpError(416, 'BLOB_UPLOAD_INVALID', `invalid Content-Range ${JSON.stringify(header)}: end before start`, { contentRange: header });
  }
  if (contentLength !== undefined && contentLength !== end - start + 1) {
    throw new HttpError(416, 'SIZE_INVALID', `Content-Range ${header} spans ${end - start + 1} bytes but Content-Length is ${contentLength}`, {
      contentRange: header,
      contentLength,
    });
  }
  return { start, end };
}

export function contentLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d+$/.test(header)) throw new HttpError(400, 'SIZE_INVALID', `invalid Content-Length ${JSON.stringify(header)}`);
  return Number(header);
}
