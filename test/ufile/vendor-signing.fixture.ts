/**
 * UFile's string to sign as UCloud's own SDKs build it, recorded from their sources (read through the
 * project's source search, 2026-12-06), so the plugin's production format is checked against the vendor
 * and not against a copy of itself:
 *
 * - ufilesdk-dev/ufile-nodejssdk, v1/ufile/auth_client.js (commit 6cf06fe5fd319590974986863f7917a8ba379f35),
 *   AuthClient.prototype.MakeAuth: `http_verb + "\n" + content_md5 + "\n" + content_type + "\n" + date + "\n"
 *   + canonicalized_ucloudHeaders + canonicalized_resource`, where CanonicalizedUCloudHeaders is
 *   `key.toLowerCase() + ":" + value + "\n"` for each `X-UCloud*` header, sorted by name, and
 *   CanonicalizedResource is `"/" + bucket + "/" + key`; the Content-Type line is empty for
 *   INIT_MULTI_UPLOAD, UPLOAD_HIT and FINISH_MULTI_UPLOAD; Sign is base64(HMAC-SHA1(private key, UTF-8));
 *   the header is `"UCloud" + " " + public_key + ":" + signature`.
 * - ufilesdk-dev/ufile-gosdk, auth.go (commit 15953defcd1bfd5369694d06124f9322c102e8b5), Auth.Authorization:
 *   `method + "\n" + md5 + "\n" + contentType + "\n" + date + "\n"` + `"/" + bucket + "/" + key` (the Go SDK
 *   sends no X-UCloud headers); Auth.AuthorizationPrivateURL signs the same with `expires` (unix seconds)
 *   in the date line, and the URL carries UCloudPublicKey, Expires and Signature.
 *
 * Each case is a request and the exact string those sources sign for it, written out by hand.
 */
export interface VendorSigningCase {
  readonly name: string;
  /** which SDK source the case follows */
  readonly source: 'ufile-nodejssdk v1/ufile/auth_client.js' | 'ufile-gosdk auth.go';
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  readonly bucket: string;
  readonly key: string;
  /** header names as a client would send them */
  readonly headers: Readonly<Record<string, string>>;
  /** a presigned URL's Expires, which takes the Date line */
  readonly expires?: string;
  readonly stringToSign: string;
}

export const VENDOR_SIGNING_CASES: readonly VendorSigningCase[] = [
  {
    name: 'a PUT of an object with Content-MD5 and Content-Type, no Date',
    source: 'ufile-gosdk auth.go',
    method: 'PUT', bucket: 'registry', key: 'docker/registry/v2/blobs/sha256/ab/abcd/data',
    headers: { 'Content-MD5': 'CY9rzUYh03PK3k6DJie09g==', 'Content-Type': 'application/octet-stream' },
    stringToSign: 'PUT\nCY9rzUYh03PK3k6DJie09g==\napplication/octet-stream\n\n/registry/docker/registry/v2/blobs/sha256/ab/abcd/data',
  },
  {
    name: 'a PUT with a Date and two X-UCloud headers, lower-cased and sorted, one line each',
    source: 'ufile-nodejssdk v1/ufile/auth_client.js',
    method: 'PUT', bucket: 'registry', key: 'dir/file.txt',
    headers: { 'Content-Type': 'text/plain', Date: 'Sun, 06 Dec 2026 03:00:00 GMT', 'X-UCloud-Zeta': '2', 'X-UCloud-Alpha': '1' },
    stringToSign: 'PUT\n\ntext/plain\nSun, 06 Dec 2026 03:00:00 GMT\nx-ucloud-alpha:1\nx-ucloud-zeta:2\n/registry/dir/file.txt',
  },
  {
    name: 'a multipart init (POST ?uploads) with no Content-Type',
    source: 'ufile-nodejssdk v1/ufile/auth_client.js',
    method: 'POST', bucket: 'registry', key: 'uploads/data',
    headers: { 'Content-Length': '0' },
    stringToSign: 'POST\n\n\n\n/registry/uploads/data',
  },
  {
    name: 'a bucket listing (GET /?listobjects): the resource ends at the bucket and the query is not signed',
    source: 'ufile-gosdk auth.go',
    method: 'GET', bucket: 'registry', key: '',
    headers: {},
    stringToSign: 'GET\n\n\n\n/registry/',
  },
  {
    name: 'a presigned GET: Expires in the date line',
    source: 'ufile-gosdk auth.go',
    method: 'GET', bucket: 'registry', key: 'docker/x/data',
    headers: {},
    expires: '1900000000',
    stringToSign: 'GET\n\n\n1900000000\n/registry/docker/x/data',
  },
  {
    name: 'a key with a space and non-ASCII characters, signed raw',
    source: 'ufile-nodejssdk v1/ufile/auth_client.js',
    method: 'DELETE', bucket: 'registry', key: 'a b/名',
    headers: {},
    stringToSign: 'DELETE\n\n\n\n/registry/a b/名',
  },
];
