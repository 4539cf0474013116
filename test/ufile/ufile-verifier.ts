/**
 * How the UFile emulator checks a request's signature, written here and independently of the plugin's
 * signer (plugins/ufile/src/signing.ts), after UCloud's own SDK sources (cited in vendor-signing.fixture.ts):
 *
 *   StringToSign = VERB "\n" Content-MD5 "\n" Content-Type "\n" Date "\n" CanonicalizedUCloudHeaders "/" bucket "/" key
 *   Signature    = base64(HMAC-SHA1(private key, UTF-8 of StringToSign))
 *
 * CanonicalizedUCloudHeaders is one `name:value\n` line per `X-UCloud-*` header, names lower-cased,
 * lines sorted by name (empty when there are none, as with the Go SDK, which sends none). A presigned
 * URL signs the same string with its `Expires` in the Date line. The query string is never signed.
 */
import { createHmac } from 'node:crypto';

export interface ReceivedUFileRequest {
  readonly method: string;
  readonly bucket: string;
  /** the key as the service sees it: the URL path after the bucket, percent-decoded */
  readonly key: string;
  /** header names in lower case, as node delivers them */
  readonly headers: Readonly<Record<string, string>>;
}

export function stringToSign(request: ReceivedUFileRequest, dateLine?: string): string {
  const h = request.headers;
  const ucloudLines = Object.keys(h)
    .filter((name) => name.toLowerCase().startsWith('x-ucloud-'))
    .map((name) => [name.toLowerCase(), h[name]!] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}:${value}\n`)
    .join('');
  const lines = [request.method.toUpperCase(), h['content-md5'] ?? '', h['content-type'] ?? '', dateLine ?? h.date ?? ''];
  return `${lines.join('\n')}\n${ucloudLines}/${request.bucket}/${request.key}`;
}

export function signature(privateKey: string, text: string): string {
  return createHmac('sha1', Buffer.from(privateKey, 'utf8')).update(Buffer.from(text, 'utf8')).digest('base64');
}

/** Whether `given` is the signature of the request (with `Expires` in the date line for a presigned URL). */
export function verify(request: ReceivedUFileRequest, privateKey: string, given: string, expires?: string): boolean {
  return signature(privateKey, stringToSign(request, expires)) === given;
}
