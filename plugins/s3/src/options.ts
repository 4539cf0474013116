/**
 * The S3 driver's options, named as distribution's s3 driver names them (so an existing config.yml
 * works), plus stowage's own for retries, timeouts and paging.
 */
import { durationMs } from '@stowage/backend-kit';

export interface S3Options {
  region: string;
  bucket: string;
  accesskey?: string;
  secretkey?: string;
  sessiontoken?: string;
  regionendpoint?: string;
  forcepathstyle?: boolean;
  encrypt?: boolean;
  keyid?: string;
  secure?: boolean;
  skipverify?: boolean;
  v4auth?: boolean;
  chunksize?: number | string;
  multipartcopychunksize?: number | string;
  multipartcopymaxconcurrency?: number | string;
  multipartcopythresholdsize?: number | string;
  rootdirectory?: string;
  storageclass?: string;
  objectacl?: string;
  useragent?: string;
  usedualstack?: boolean;
  accelerate?: boolean;
  loglevel?: string;
  createbucket?: boolean;
  maxretries?: number;
  /** durations: Go duration strings (`250ms`, `1m`) or bare numbers of seconds */
  retrydelay?: number | string;
  timeout?: number | string;
  connecttimeout?: number | string;
  listpagesize?: number;
}

export interface ResolvedS3Options {
  region: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  /** scheme://host[:port], no trailing slash */
  endpoint: string;
  pathStyle: boolean;
  encrypt: boolean;
  keyId?: string;
  skipVerify: boolean;
  chunkSize: number;
  copyChunkSize: number;
  copyConcurrency: number;
  copyThreshold: number;
  /** key prefix without leading or trailing `/`, possibly empty */
  rootDirectory: string;
  /** undefined: no x-amz-storage-class header (distribution's NONE) */
  storageClass?: string;
  objectAcl: string;
  userAgent: string;
  createBucket: boolean;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  listPageSize: number;
}

/** S3's minimum part size (all parts but the last). */
export const MIN_CHUNK_SIZE = 5 << 20;
export const MAX_PART_SIZE = 5 * 1024 ** 3;

export class S3OptionError extends Error {
  override readonly name = 'S3OptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`s3 option ${option}: ${message}`);
  }
}

function size(options: S3Options, name: keyof S3Options, fallback: number, min: number, max: number): number {
  const raw = options[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new S3OptionError(name, `${String(raw)} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

export function resolveS3Options(options: S3Options): ResolvedS3Options {
  if (!options.bucket) throw new S3OptionError('bucket', 'is required');
  if (!options.region) throw new S3OptionError('region', 'is required');
  const accessKey = options.accesskey ?? process.env.AWS_ACCESS_KEY_ID ?? '';
  const secretKey = options.secretkey ?? process.env.AWS_SECRET_ACCESS_KEY ?? '';
  if (!accessKey || !secretKey) throw new S3OptionError('accesskey', 'accesskey and secretkey are required (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
  const secure = options.secure ?? true;
  let endpoint: string;
  if (options.regionendpoint) {
    endpoint = /^https?:\/\//.test(options.regionendpoint) ? options.regionendpoint : `${secure ? 'https' : 'http'}://${options.regionendpoint}`;
  } else if (options.accelerate) {
    endpoint = `${secure ? 'https' : 'http'}://s3-accelerate.amazonaws.com`;
  } else {
    endpoint = `${secure ? 'https' : 'http'}://s3.${options.usedualstack ? 'dualstack.' : ''}${options.region}.amazonaws.com`;
  }
  const storageClass = options.storageclass ?? 'STANDARD';
  return {
    region: options.region,
    bucket: options.bucket,
    accessKey,
    secretKey,
    sessionToken: options.sessiontoken || process.env.AWS_SESSION_TOKEN || undefined,
    endpoint: endpoint.replace(/\/+$/, ''),
    pathStyle: options.forcepathstyle ?? false,
    encrypt: options.encrypt ?? false,
    keyId: options.keyid || undefined,
    skipVerify: options.skipverify ?? false,
    chunkSize: size(options, 'chunksize', 10 << 20, MIN_CHUNK_SIZE, MAX_PART_SIZE),
    copyChunkSize: size(options, 'multipartcopychunksize', 32 << 20, MIN_CHUNK_SIZE, MAX_PART_SIZE),
    copyConcurrency: size(options, 'multipartcopymaxconcurrency', 100, 1, 1000),
    copyThreshold: size(options, 'multipartcopythresholdsize', 32 << 20, 0, MAX_PART_SIZE),
    rootDirectory: (options.rootdirectory ?? '').replace(/^\/+|\/+$/g, ''),
    storageClass: storageClass === 'NONE' ? undefined : storageClass,
    objectAcl: options.objectacl ?? 'private',
    userAgent: options.useragent || 'stowage-driver-s3',
    createBucket: options.createbucket ?? false,
    retries: options.maxretries ?? 5,
    // bare numbers were milliseconds before they were seconds: large ones are refused rather than misread
    retryDelayMs: durationMs(options.retrydelay, { option: 'retrydelay', defaultMs: 100, minMs: 1, maxBareSeconds: 10, bareStrings: false }),
    timeoutMs: durationMs(options.timeout, { option: 'timeout', defaultMs: 60_000, minMs: 100, maxBareSeconds: 99, bareStrings: false }),
    connectTimeoutMs: durationMs(options.connecttimeout, { option: 'connecttimeout', defaultMs: 10_000, minMs: 100, maxBareSeconds: 99, bareStrings: false }),
    listPageSize: options.listpagesize ?? 1000,
  };
}
