/**
 * The token exchange: tempauth/v1 (`X-Auth-User`/`X-Auth-Key`), Keystone v2 (`POST .../tokens`) and
 * Keystone v3 (`POST .../auth/tokens`, token in `X-Subject-Token`). Keystone answers with a service
 * catalog; the storage URL is the `object-store` endpoint of the configured region and interface.
 */
import type { Dispatcher } from 'undici';
import { BackendError, isRetriableStatus } from '@stowage/backend-kit';
import type { ResolvedSwiftOptions } from './options.js';

export interface SwiftSession {
  readonly token: string;
  readonly storageUrl: string;
  /** the project (tenant) id Keystone scoped the token to, when it said */
  readonly tenantId?: string;
}

type AuthOptions = Pick<
  ResolvedSwiftOptions,
  | 'authUrl' | 'authVersion' | 'username' | 'password' | 'tenant' | 'tenantId' | 'domain' | 'domainId'
  | 'tenantDomain' | 'tenantDomainId' | 'trustId' | 'region' | 'endpointType' | 'storageUrl' | 'timeoutMs'
>;

interface CatalogEntryV2 {
  type?: string;
  endpoints?: { region?: string; publicURL?: string; internalURL?: string; adminURL?: string }[];
}
interface CatalogEntryV3 {
  type?: string;
  endpoints?: { region?: string; region_id?: string; interface?: string; url?: string }[];
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function exchange(
  dispatcher: Dispatcher,
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<{ headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url);
  const response = await dispatcher.request({
    origin: target.origin,
    path: target.pathname + target.search,
    method: init.method,
    headers: init.headers,
    body: init.body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const body = await response.body.text();
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new BackendError(
      `swift authentication at ${target.origin}${target.pathname} answered ${response.statusCode}`,
      response.statusCode,
      isRetriableStatus(response.statusCode),
    );
  }
  return { headers: response.headers, body };
}

function joinUrl(base: string, tail: string): string {
  return base.replace(/\/+$/, '') + tail;
}

async function authV1(dispatcher: Dispatcher, options: AuthOptions): Promise<SwiftSession> {
  const { headers } = await exchange(
    dispatcher,
    options.authUrl,
    { method: 'GET', headers: { 'x-auth-user': options.username, 'x-auth-key': options.password } },
    options.timeoutMs,
  );
  const token = header(headers, 'x-auth-token') ?? header(headers, 'x-storage-token');
  const storageUrl = options.storageUrl ?? header(headers, 'x-storage-url');
  if (!token || !storageUrl) throw new BackendError('swift v1 authentication answered without X-Auth-Token or X-Storage-Url');
  return { token, storageUrl: storageUrl.replace(/\/+$/, '') };
}

function pickEndpoint<T>(endpoints: T[], region: string | undefined, regionOf: (e: T) => (string | undefined)[], url: (e: T) => string | undefined): string | undefined {
  for (const endpoint of endpoints) {
    if (region && !regionOf(endpoint).includes(region)) continue;
    const found = url(endpoint);
    if (found) return found;
  }
  return undefined;
}

async function authV2(dispatcher: Dispatcher, options: AuthOptions): Promise<SwiftSession> {
  const auth: Record<string, unknown> = { passwordCredentials: { username: options.username, password: options.password } };
  if (options.tenant) auth.tenantName = options.tenant;
  if (options.tenantId) auth.tenantId = options.tenantId;
  const { body } = await exchange(
    dispatcher,
    joinUrl(options.authUrl, '/tokens'),
    { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify({ auth }) },
    options.timeoutMs,
  );
  const access = (JSON.parse(body) as { access?: { token?: { id?: string; tenant?: { id?: string } }; serviceCatalog?: CatalogEntryV2[] } }).access;
  const token = access?.token?.id;
  if (!token) throw new BackendError('keystone v2 answered without access.token.id');
  const urlKey = `${options.endpointType}URL` as 'publicURL' | 'internalURL' | 'adminURL';
  const endpoints = (access?.serviceCatalog ?? []).filter((s) => s.type === 'object-store').flatMap((s) => s.endpoints ?? []);
  const storageUrl = options.storageUrl ?? pickEndpoint(endpoints, options.region, (e) => [e.region], (e) => e[urlKey]);
  if (!storageUrl) throw new BackendError(`keystone v2 catalog has no object-store ${options.endpointType} endpoint${options.region ? ` in region ${options.region}` : ''}`);
  return { token, storageUrl: storageUrl.replace(/\/+$/, ''), tenantId: access?.token?.tenant?.id };
}

async function authV3(dispatcher: Dispatcher, options: AuthOptions): Promise<SwiftSession> {
  const domain = (name?: string, id?: string): Record<string, string> | undefined =>
    id ? { id } : name ? { name } : undefined;
  const user: Record<string, unknown> = { name: options.username, password: options.password };
  const userDomain = domain(options.domain, options.domainId);
  if (userDomain) user.domain = userDomain;
  let scope: Record<string, unknown> | undefined;
  if (options.trustId) {
    scope = { 'OS-TRUST:trust': { id: options.trustId } };
  } else if (options.tenantId) {
    scope = { project: { id: options.tenantId } };
  } else if (options.tenant) {
    const projectDomain = domain(options.tenantDomain ?? options.domain, options.tenantDomainId ?? options.domainId);
    scope = { project: { name: options.tenant, ...(projectDomain ? { domain: projectDomain } : {}) } };
  }
  const request = { auth: { identity: { methods: ['password'], password: { user } }, ...(scope ? { scope } : {}) } };
  const { headers, body } = await exchange(
    dispatcher,
    joinUrl(options.authUrl, '/auth/tokens'),
    { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(request) },
    options.timeoutMs,
  );
  const token = header(headers, 'x-subject-token');
  if (!token) throw new BackendError('keystone v3 answered without X-Subject-Token');
  const parsed = JSON.parse(body) as { token?: { catalog?: CatalogEntryV3[]; project?: { id?: string } } };
  const endpoints = (parsed.token?.catalog ?? []).filter((s) => s.type === 'object-store').flatMap((s) => s.endpoints ?? []);
  const storageUrl =
    options.storageUrl ??
    pickEndpoint(
      endpoints.filter((e) => e.interface === options.endpointType),
      options.region,
      (e) => [e.region, e.region_id],
      (e) => e.url,
    );
  if (!storageUrl) throw new BackendError(`keystone v3 catalog has no object-store ${options.endpointType} endpoint${options.region ? ` in region ${options.region}` : ''}`);
  return { token, storageUrl: storageUrl.replace(/\/+$/, ''), tenantId: parsed.token?.project?.id };
}

export function authenticate(dispatcher: Dispatcher, options: AuthOptions): Promise<SwiftSession> {
  switch (options.authVersion) {
    case 1:
      return authV1(dispatcher, options);
    case 2:
      return authV2(dispatcher, options);
    case 3:
      return authV3(dispatcher, options);
  }
}
