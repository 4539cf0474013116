/** Swift TempURL signatures (HMAC over "METHOD\nexpires\npath"), SHA-256 since SHA-1 is deprecated. */
import { createHmac } from 'node:crypto';

export interface TempUrlRequest {
  readonly storageUrl: string;
  /** `/<container>/<object>`, not encoded */
  readonly objectPath: string;
  readonly method: string;
  readonly key: string;
  readonly expires: number;
  /** HP Cloud style: the signature becomes `<tenantid>:<accesskey>:<signature>` */
  readonly accessKey?: string;
  readonly tenantId?: string;
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/');

export function tempUrl(request: TempUrlRequest): string {
  const base = new URL(request.storageUrl);
  const path = decodeURIComponent(base.pathname.replace(/\/+$/, '')) + request.objectPath;
  let signature = createHmac('sha256', request.key).update(`${request.method}\n${request.expires}\n${path}`).digest('hex');
  if (request.accessKey) signature = `${request.tenantId ?? ''}:${request.accessKey}:${signature}`;
  const query = new URLSearchParams({ temp_url_sig: signature, temp_url_expires: String(request.expires) });
  return `${base.origin}${encodePath(path)}?${query.toString()}`;
}
