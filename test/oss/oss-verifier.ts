/**
 * How the OSS emulator checks a request's signature, independently of the plugin's signer
 * (plugins/alioss/src/signing.ts): the canonical strings, string to sign and HMACs come from Aliyun's
 * own `ali-oss` package (lib/common/signUtils.js), which the plugin does not use. What is left here is
 * only reading the request the way the service does: which query parameters are V1 sub-resources, a
 * parameter written without `=` having no value, and where the date comes from.
 */
import { aliSignUtils } from './ali-oss.js';

export interface ReceivedRequest {
  readonly method: string;
  readonly bucket: string;
  /** unescaped object key; '' for the bucket */
  readonly key: string;
  /** the raw query string, without `?` */
  readonly rawQuery: string;
  /** header names in lower case */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * The query parameters OSS signs in V1 ("CanonicalizedResource" in Alibaba Cloud's "Include a V1
 * signature in the Authorization header"); listing parameters (`prefix`, `marker`, `max-keys`,
 * `delimiter`) are not among them.
 */
const V1_SIGNED_PARAMETERS = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append', 'tagging',
  'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName', 'replication',
  'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod',
  'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type', 'response-content-language',
  'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'udf', 'udfName', 'udfImage', 'udfId', 'udfImageDesc', 'udfApplication', 'udfApplicationLog', 'restore',
  'callback', 'callback-var', 'policy', 'stat', 'encryption', 'versions', 'versioning', 'versionId', 'requestPayment',
  'x-oss-request-payer', 'sequential', 'inventory', 'inventoryId', 'continuation-token', 'worm', 'wormId', 'wormExtend',
  'x-oss-traffic-limit', 'x-oss-async-process', 'x-oss-ac-source-ip', 'x-oss-ac-subnet-mask', 'x-oss-ac-vpc-id',
  'x-oss-ac-forward-allow',
]);

/** Query parameters in order of appearance; a parameter without `=` has the value null, as OSS reads it. */
export function parseQuery(rawQuery: string): Map<string, string | null> {
  const parameters = new Map<string, string | null>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const name = decodeURIComponent((at < 0 ? pair : pair.slice(0, at)).replace(/\+/g, ' '));
    parameters.set(name, at < 0 ? null : decodeURIComponent(pair.slice(at + 1).replace(/\+/g, ' ')));
  }
  return parameters;
}

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly stringToSign: string };

/** V1 with the Authorization header: `OSS <id>:<signature>` recomputed by ali-oss. */
export function verifyV1Header(request: ReceivedRequest, accessKeyId: string, secret: string, provided: string): Verdict {
  const stringToSign = v1StringToSign(request, request.headers['x-oss-date'] === undefined ? request.headers.date : undefined);
  return aliSignUtils.authorization(accessKeyId, secret, stringToSign) === provided ? { ok: true } : { ok: false, stringToSign };
}

/** V1 presigned URL: the signature of the same string with `Expires` in the date's place. */
export function verifyV1Query(request: ReceivedRequest, secret: string, expires: string, signature: string): Verdict {
  const stringToSign = v1StringToSign(request, expires);
  return aliSignUtils.computeSignature(secret, stringToSign) === signature ? { ok: true } : { ok: false, stringToSign };
}

function v1StringToSign(request: ReceivedRequest, dateInstead: string | undefined): string {
  const signed: Record<string, string> = {};
  for (const [name, value] of parseQuery(request.rawQuery)) if (V1_SIGNED_PARAMETERS.has(name)) signed[name] = value ?? '';
  return aliSignUtils.buildCanonicalString(request.method, `/${request.bucket}/${request.key}`, { headers: { ...request.headers }, parameters: signed }, dateInstead);
}

/** V4 (header or presigned): the signature over ali-oss's canonical request, with every query parameter but the signature. */
export function verifyV4(request: ReceivedRequest, secret: string, region: string, timestamp: string, additionalHeaders: readonly string[], provided: string): Verdict {
  const queries: Record<string, string | null> = {};
  // A parameter with an empty value is canonicalised as its bare name, like one written without `=`.
  for (const [name, value] of parseQuery(request.rawQuery)) if (name !== 'x-oss-signature') queries[name] = value === '' ? null : value;
  const canonical = aliSignUtils.getCanonicalRequest(request.method, { headers: { ...request.headers }, queries }, request.bucket, request.key || undefined, [...additionalHeaders]);
  const stringToSign = aliSignUtils.getStringToSign(region, timestamp, canonical);
  return aliSignUtils.getSignatureV4(secret, timestamp.slice(0, 8), region, stringToSign) === provided ? { ok: true } : { ok: false, stringToSign };
}
