/**
 * The alioss options, named as distribution 2.8's oss driver names them (the seed docker-registry-driver-alioss
 * keys are mapped onto these by the manifest's legacyOptions), resolved into what the store needs.
 */
import { durationMs } from '@stowage/backend-kit';

export interface AliOssOptions {
  accesskeyid: string;
  accesskeysecret: string;
  bucket: string;
  /** `oss-cn-hangzhou`; the V4 signing region is this without `oss-` */
  region?: string;
  /** host[:port] (or a URL) of the service; default `<region>[-internal].aliyuncs.com` */
  endpoint?: string;
  internal?: boolean | string;
  secure?: boolean | string;
  encrypt?: boolean | string;
  chunksize?: number | string;
  rootdirectory?: string;
  signatureversion?: 'v1' | 'v4';
  retries?: number | string;
  retryinterval?: number | string;
  timeout?: number | string;
  redirectexpiry?: number | string;
}

export interface ResolvedAliOssOptions {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly bucket: string;
  /** `http:` or `https:` */
  readonly protocol: string;
  /** host[:port] of the service, without the bucket */
  readonly endpointHost: string;
  readonly signingRegion?: string;
  readonly signatureVersion: 'v1' | 'v4';
  readonly encrypt: boolean;
  readonly chunkSize: number;
  readonly rootDirectory: string;
  readonly retries: number;
  readonly retryIntervalMs: number;
  readonly timeoutMs: number;
  readonly redirectExpiry: number;
}

export class AliOssOptionError extends Error {
  override readonly name = 'AliOssOptionError';
  constructor(readonly option: string, message: string) {
    super(`alioss option ${option}: ${message}`);
  }
}

export const MIN_CHUNK_SIZE = 100 * 1024;
export const DEFAULT_CHUNK_SIZE = 10 * 1024 * 1024;

function bool(value: boolean | string | undefined, fallback: boolean, option: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new AliOssOptionError(option, `${JSON.stringify(value)} is not a boolean`);
}

function number(value: number | string | undefined, fallback: number, option: string, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min) throw new AliOssOptionError(option, `${JSON.stringify(value)} is not a number >= ${min}`);
  return n;
}

function required(value: string | undefined, option: string): string {
  if (typeof value !== 'string' || value === '') throw new AliOssOptionError(option, 'is required');
  return value;
}

export function resolveOptions(options: AliOssOptions): ResolvedAliOssOptions {
  const secure = bool(options.secure, true, 'secure');
  const internal = bool(options.internal, false, 'internal');
  const region = options.region?.trim() || undefined;
  let protocol = secure ? 'https:' : 'http:';
  let endpointHost: string;
  if (options.endpoint) {
    const endpoint = options.endpoint.trim();
    if (/^https?:\/\//i.test(endpoint)) {
      const url = new URL(endpoint);
      protocol = url.protocol;
      endpointHost = url.host;
    } else {
      endpointHost = endpoint.replace(/\/+$/, '');
    }
  } else if (region) {
    endpointHost = `${region}${internal ? '-internal' : ''}.aliyuncs.com`;
  } else {
    throw new AliOssOptionError('region', 'is required when no endpoint is given (e.g. oss-cn-hangzhou)');
  }
  const signatureVersion = options.signatureversion ?? 'v1';
  const derivedRegion = region ?? /^oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com$/.exec(endpointHost)?.[1]?.replace(/^/, 'oss-');
  if (signatureVersion === 'v4' && !derivedRegion) throw new AliOssOptionError('region', 'is required for signature V4');
  const chunkSize = number(options.chunksize, DEFAULT_CHUNK_SIZE, 'chunksize', MIN_CHUNK_SIZE);
  return {
    accessKeyId: required(options.accesskeyid, 'accesskeyid'),
    accessKeySecret: required(options.accesskeysecret, 'accesskeysecret'),
    bucket: required(options.bucket, 'bucket'),
    protocol,
    endpointHost,
    signingRegion: derivedRegion?.replace(/^oss-/, ''),
    signatureVersion,
    encrypt: bool(options.encrypt, false, 'encrypt'),
    chunkSize: Math.floor(chunkSize),
    rootDirectory: (options.rootdirectory ?? '').replace(/^\/+|\/+$/g, ''),
    retries: Math.floor(number(options.retries, 3, 'retries', 0)),
    retryIntervalMs: durationMs(options.retryinterval, { option: 'retryinterval', defaultMs: 1000 }),
    timeoutMs: durationMs(options.timeout, { option: 'timeout', defaultMs: 60_000, minMs: 1 }),
    redirectExpiry: Math.floor(durationMs(options.redirectexpiry, { option: 'redirectexpiry', defaultMs: 1_200_000, minMs: 1000 }) / 1000),
  };
}
