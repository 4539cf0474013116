/**
 * The Swift driver's options: distribution 2.8's names (so an existing config.yml works), the seed's
 * extras (auth version, storage URL override, CA file), and stowage's own (retries, timeouts, paging).
 * The schema rejects malformed values; this module applies defaults when the factory is called directly
 * and turns the values into what the client needs.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { durationMs } from '@stowage/backend-kit';

export interface SwiftOptions {
  authurl: string;
  username: string;
  password: string;
  container: string;
  authversion?: number | string;
  tenant?: string;
  tenantid?: string;
  domain?: string;
  domainid?: string;
  tenantdomain?: string;
  tenantdomainid?: string;
  trustid?: string;
  region?: string;
  endpointtype?: 'public' | 'internal' | 'admin';
  storageurl?: string;
  prefix?: string;
  chunksize?: number | string;
  insecureskipverify?: boolean;
  cacert?: string;
  secretkey?: string;
  accesskey?: string;
  tempurlcontainerkey?: boolean;
  tempurlmethods?: string[];
  createcontainer?: boolean;
  maxretries?: number;
  /** durations: Go duration strings (`250ms`, `1m`) or bare numbers of seconds */
  retrydelay?: number | string;
  timeout?: number | string;
  connecttimeout?: number | string;
  listpagesize?: number;
}

export interface ResolvedSwiftOptions {
  authUrl: string;
  username: string;
  password: string;
  container: string;
  authVersion: 1 | 2 | 3;
  tenant?: string;
  tenantId?: string;
  domain?: string;
  domainId?: string;
  tenantDomain?: string;
  tenantDomainId?: string;
  trustId?: string;
  region?: string;
  endpointType: 'public' | 'internal' | 'admin';
  storageUrl?: string;
  /** object-name prefix without leading or trailing `/`, possibly empty */
  prefix: string;
  chunkSize: number;
  insecureSkipVerify: boolean;
  ca?: string;
  secretKey?: string;
  accessKey?: string;
  tempUrlContainerKey?: boolean;
  tempUrlMethods?: string[];
  createContainer: boolean;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  listPageSize: number;
}

export const MIN_CHUNK_SIZE = 1 << 20;
export const DEFAULT_CHUNK_SIZE = 20 << 20;
/** Swift's default max_file_size: one segment may not be larger. */
export const MAX_CHUNK_SIZE = 5 * 1024 ** 3;

export class SwiftOptionError extends Error {
  override readonly name = 'SwiftOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`swift option ${option}: ${message}`);
  }
}

const blank = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** distribution's rule (ncw/swift): the version in the URL decides when none is given. */
export function detectAuthVersion(authUrl: string): 1 | 2 | 3 {
  if (/\/v3(\/|$)/.test(authUrl) || authUrl.includes('v3')) return 3;
  if (/\/v2/.test(authUrl) || authUrl.includes('v2')) return 2;
  return 1;
}

export function resolveSwiftOptions(options: SwiftOptions, baseDir: string): ResolvedSwiftOptions {
  for (const required of ['authurl', 'username', 'password', 'container'] as const) {
    if (typeof options[required] !== 'string' || options[required] === '') throw new SwiftOptionError(required, 'is required');
  }
  const version = Number(options.authversion ?? 0);
  if (![0, 1, 2, 3].includes(version)) throw new SwiftOptionError('authversion', `${String(options.authversion)} is not 1, 2 or 3 (0: from the URL)`);
  const chunkSize = Number(options.chunksize ?? DEFAULT_CHUNK_SIZE);
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new SwiftOptionError('chunksize', `${String(options.chunksize)} is not a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`);
  }
  let ca: string | undefined;
  if (blank(options.cacert)) {
    const file = isAbsolute(options.cacert!) ? options.cacert! : resolve(baseDir, options.cacert!);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (err) {
      throw new SwiftOptionError('cacert', `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return {
    authUrl: options.authurl,
    username: options.username,
    password: options.password,
    container: options.container,
    authVersion: version === 0 ? detectAuthVersion(options.authurl) : (version as 1 | 2 | 3),
    tenant: blank(options.tenant),
    tenantId: blank(options.tenantid),
    domain: blank(options.domain),
    domainId: blank(options.domainid),
    tenantDomain: blank(options.tenantdomain),
    tenantDomainId: blank(options.tenantdomainid),
    trustId: blank(options.trustid),
    region: blank(options.region),
    endpointType: options.endpointtype ?? 'public',
    storageUrl: blank(options.storageurl)?.replace(/\/+$/, ''),
    prefix: (options.prefix ?? '').replace(/^\/+|\/+$/g, ''),
    chunkSize,
    insecureSkipVerify: options.insecureskipverify ?? false,
    ca,
    secretKey: blank(options.secretkey),
    accessKey: blank(options.accesskey),
    tempUrlContainerKey: options.tempurlcontainerkey,
    tempUrlMethods: options.tempurlmethods,
    createContainer: options.createcontainer ?? true,
    retries: options.maxretries ?? 5,
    // bare numbers were milliseconds before they were seconds: large ones are refused rather than misread
    retryDelayMs: durationMs(options.retrydelay, { option: 'retrydelay', defaultMs: 100, minMs: 1, maxBareSeconds: 10, bareStrings: false }),
    timeoutMs: durationMs(options.timeout, { option: 'timeout', defaultMs: 60_000, minMs: 100, maxBareSeconds: 99, bareStrings: false }),
    connectTimeoutMs: durationMs(options.connecttimeout, { option: 'connecttimeout', defaultMs: 10_000, minMs: 100, maxBareSeconds: 99, bareStrings: false }),
    listPageSize: options.listpagesize ?? 10_000,
  };
}
