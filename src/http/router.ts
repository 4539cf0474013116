/** Maps a request path and method to the handler of its API resource. */
import type { RouteAccess } from '../auth/challenge.js';
import { checkName } from '../registry/index.js';
import { getBase } from './base.js';
import { deleteBlob, getBlob } from './blobs.js';
import { listCatalog } from './catalog.js';
import { listQuotas } from './quotas.js';
import type { Handler } from './context.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { listReferrers } from './referrers.js';
import { pingV1, searchV1, searchV2 } from './search.js';
import { listTags } from './tags.js';
import { cancelUpload, getUploadStatus, patchUpload, putUpload, startUpload } from './uploads.js';

/** A handler and the access its caller needs: declared here so that no endpoint escapes authorization. */
interface Endpoint {
  readonly handler: Handler;
  readonly access: RouteAccess;
}

type Methods = Readonly<Partial<Record<string, Endpoint>>>;

const needs = (access: RouteAccess, handler: Handler): Endpoint => ({ handler, access });

interface Route {
  /** the path pattern in words, for logs and metrics: `/v2/<name>/blobs/<digest>` */
  readonly template: string;
  readonly pattern: RegExp;
  readonly methods: Methods;
}

/** HEAD is answered wherever GET is (node drops the body). */
const readable = (get: Endpoint, more: Methods = {}): Methods => ({ GET: get, HEAD: get, ...more });

// Order matters: the upload routes come before `blobs/<digest>`, since names may contain slashes.
const ROUTES: readonly Route[] = [
  { template: '/v2/', pattern: /^\/v2\/?$/, methods: readable(needs('base', getBase)) },
  { template: '/v2/_catalog', pattern: /^\/v2\/_catalog$/, methods: readable(needs('catalog', listCatalog)) },
  // stowage's own: quota usage is registry-wide, so it takes the catalog's access
  { template: '/v2/_stowage/quotas', pattern: /^\/v2\/_stowage\/quotas$/, methods: readable(needs('catalog', listQuotas)) },
  // search (src/http/search.ts): any caller who may use the registry; results are filtered to what they may pull
  { template: '/v1/_ping', pattern: /^\/v1\/_ping$/, methods: readable(needs('base', pingV1)) },
  { template: '/v1/search', pattern: /^\/v1\/search$/, methods: readable(needs('base', searchV1)) },
  { template: '/v2/_stowage/search', pattern: /^\/v2\/_stowage\/search$/, methods: readable(needs('base', searchV2)) },
  { template: '/v2/<name>/tags/list', pattern: /^\/v2\/(.+)\/tags\/list$/, methods: readable(needs('pull', listTags)) },
  { template: '/v2/<name>/blobs/uploads/', pattern: /^\/v2\/(.+)\/blobs\/uploads\/?$/, methods: { POST: needs('push', startUpload) } },
  {
    template: '/v2/<name>/blobs/uploads/<uuid>',
    pattern: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: readable(needs('push', getUploadStatus), {
      PATCH: needs('push', patchUpload),
      PUT: needs('push', putUpload),
      DELETE: needs('push', cancelUpload),
    }),
  },
  { template: '/v2/<name>/blobs/<digest>', pattern: /^\/v2\/(.+)\/blobs\/([^/]+)$/, methods: readable(needs('pull', getBlob), { DELETE: needs('delete', deleteBlob) }) },
  {
    template: '/v2/<name>/manifests/<reference>',
    pattern: /^\/v2\/(.+)\/manifests\/([^/]+)$/,
    methods: readable(needs('pull', getManifest), { PUT: needs('push', putManifest), DELETE: needs('delete', deleteManifest) }),
  },
  { template: '/v2/<name>/referrers/<digest>', pattern: /^\/v2\/(.+)\/referrers\/([^/]+)$/, methods: readable(needs('pull', listReferrers)) },
];

export type RouteMatch =
  | { readonly kind: 'handler'; readonly handler: Handler; readonly template: string; readonly access: RouteAccess; readonly name: string; readonly reference: string }
  | { readonly kind: 'method-not-allowed'; readonly template: string; readonly allow: string }
  | { readonly kind: 'not-found' };

/** `path` is the raw request path (percent-escapes kept); throws NAME_INVALID for a route whose name is not one. */
export function route(method: string, path: string): RouteMatch {
  for (const { template, pattern, methods } of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const endpoint = methods[method];
    if (!endpoint) return { kind: 'method-not-allowed', template, allow: Object.keys(methods).join(', ') };
    const name = match[1] ?? '';
    // the name is taken from the raw path and must already be a valid one: whatever decides on a request by
    // its repository (authorization, logs) sees exactly the name the registry will use
    if (name) checkName(name);
    return { kind: 'handler', handler: endpoint.handler, template, access: endpoint.access, name, reference: decodeSegment(match[2] ?? '') };
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
