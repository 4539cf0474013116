/** Maps a request path and method to the handler of its API resource. */
import { checkName } from '../registry/index.js';
import { getBase } from './base.js';
import { deleteBlob, getBlob } from './blobs.js';
import { listCatalog } from './catalog.js';
import type { Handler } from './context.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { listReferrers } from './referrers.js';
import { listTags } from './tags.js';
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from './uploads.js';

type Methods = Readonly<Partial<Record<string, Handler>>>;

interface Route {
  readonly pattern: RegExp;
  readonly methods: Methods;
}

/** HEAD is answered wherever GET is (node drops the body). */
const readable = (get: Handler, more: Methods = {}): Methods => ({ GET: get, HEAD: get, ...more });

// Order matters: the upload routes come before `blobs/<digest>`, since names may contain slashes.
const ROUTES: readonly Route[] = [
  { pattern: /^\/v2\/?$/, methods: readable(getBase) },
  { pattern: /^\/v2\/_catalog$/, methods: readable(listCatalog) },
  { pattern: /^\/v2\/(.+)\/tags\/list$/, methods: readable(listTags) },
  { pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  {
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: readable(getUploadStatus, { PATCH: patchUpload, PUT: putUpload, DELETE: cancelUpload }),
  },
  { pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: readable(getBlob, { DELETE: deleteBlob }) },
  { pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/, methods: readable(getManifest, { PUT: putManifest, DELETE: deleteManifest }) },
  { pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: readable(listReferrers) },
];

export type RouteMatch =
  | { readonly kind: 'handler'; readonly handler: Handler; readonly name: string; readonly reference: string }
  | { readonly kind: 'method-not-allowed'; readonly allow: string }
  | { readonly kind: 'not-found' };

/** `path` is the raw request path (percent-escapes kept); throws NAME_INVALID for a route whose name is not one. */
export function route(method: string, path: string): RouteMatch {
  for (const { pattern, methods } of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const handler = methods[method];
    if (!handler) return { kind: 'method-not-allowed', allow: Object.keys(methods).join(', ') };
    const name = match[1] ?? '';
    // the name is taken from the raw path and must already be a valid one: whatever decides on a request by
    // its repository (authorization, logs) sees exactly the name the registry will use
    if (name) checkName(name);
    return { kind: 'handler', handler, name, reference: decodeSegment(match[2] ?? '') };
  }
  return { kind: 'not-found' };
}

/** Clients may percent-encode a digest's colon; anything undecodable is kept as sent (and fails validation). */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
