/**
 * The ufile options in stowage's spelling; the seed docker-registry-driver-ufile keys (ufile_baseurl,
 * ufile_public_key, ufile_private_key, ufile_retries, ufile_retry_interval, ufile_timeout) are mapped onto
 * them by the manifest's legacyOptions, with the seed's defaults.
 */
import { isIP } from 'node:net';
import { durationMs } from '@stowage/backend-kit';

export interface UFileOptions {
  /** the bucket's URL with scheme, e.g. http://my-bucket.cn-bj.ufileos.com */
  baseurl: string;
  publickey: string;
  privatekey: string;
  /** the bucket name, when baseurl's host does not start with it (an IP address, a CNAME) */
  bucket?: string;
  retries?: number | string;
  /** a Go duration (`500ms`, `1m`) or bare seconds */
  retryinterval?: number | string;
  /** a Go duration (`30s`, `2m`) or bare seconds */
  timeout?: number | string;
  rootdirectory?: string;
  redirectexpiry?: number | string;
}

export interface ResolvedUFileOptions {
  /** scheme://host[:port], no trailing slash */
  readonly origin: string;
  readonly bucket: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly retries: number;
  readonly retryIntervalMs: number;
  readonly timeoutMs: number;
  readonly rootDirectory: string;
  readonly redirectExpiry: number;
}

export class UFileOptionError extends Error {
  override readonly name = 'UFileOptionError';
  constructor(readonly option: string, message: string) {
    super(`ufile option ${option}: ${message}`);
  }
}

function number(value: number | string | undefined, fallback: number, option: string, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min) throw new UFileOptionError(option, `${JSON.stringify(value)} is not a number >= ${min}`);
  return n;
}

function required(value: string | undefined, option: string): string {
  if (typeof value !== 'string' || value === '') throw new UFileOptionError(option, 'is required');
  return value;
}

export function resolveOptions(options: UFileOptions): ResolvedUFileOptions {
  let url: URL;
  try {
    url = new URL(required(options.baseurl, 'baseurl'));
  } catch (err) {
    if (err instanceof UFileOptionError) throw err;
    throw new UFileOptionError('baseurl', `${JSON.stringify(options.baseurl)} is not a URL with a scheme (e.g. http://my-bucket.cn-bj.ufileos.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UFileOptionError('baseurl', 'must be an http:// or https:// URL');
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const bucket = options.bucket || (isIP(hostname) === 0 && hostname.includes('.') ? hostname.split('.')[0]! : '');
  if (!bucket) throw new UFileOptionError('bucket', `cannot be read from ${url.host}; name the bucket with the bucket option`);
  return {
    origin: url.origin,
    bucket,
    publicKey: required(options.publickey, 'publickey'),
    privateKey: required(options.privatekey, 'privatekey'),
    retries: Math.floor(number(options.retries, 3, 'retries', 0)),
    retryIntervalMs: durationMs(options.retryinterval, { option: 'retryinterval', defaultMs: 1000 }),
    timeoutMs: durationMs(options.timeout, { option: 'timeout', defaultMs: 60_000, minMs: 1 }),
    rootDirectory: (options.rootdirectory ?? '').replace(/^\/+|\/+$/g, ''),
    redirectExpiry: Math.floor(durationMs(options.redirectexpiry, { option: 'redirectexpiry', defaultMs: 1_200_000, minMs: 1000 }) / 1000),
  };
}
