/**
 * The HTTP client of one upstream registry (undici): manifests and blobs by the Distribution API, answering
 * the upstream's `WWW-Authenticate` challenges. Basic is answered with the configured credentials; Bearer
 * by fetching a token from the challenge's realm (with the credentials as Basic when there are any,
 * anonymously otherwise) for the challenge's service and scope, kept per scope until it expires. Once the
 * upstream has asked for one scheme, later requests send it at once rather than waiting for another 401.
 * Redirects (Docker Hub sends blobs to a CDN) are followed, without the Authorization header when the
 * origin changes. Nothing here logs or puts into an error message a credential or a token.
 */
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { loadWhenNeeded } from '../../load-when-needed.js';
import { digestBytes, tryParseDigest } from '../digest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST, bareMediaType } from '../media-types.js';
import { parseChallenges, type AuthChallenge } from './challenge.js';

/** undici, loaded by the first upstream (only a configuration with a proxy section has one) */
const undici = loadWhenNeeded<typeof import('undici')>('undici');

/** what an upstream failure means to the puller */
export type UpstreamFailure = 'not-found' | 'unauthorized' | 'denied' | 'too-many-requests' | 'unavailable' | 'invalid';

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    /** the upstream's status, when it answered */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

export const isUpstreamError = (err: unknown): err is UpstreamError => err instanceof UpstreamError;

/** what the client needs of an upstream's configuration (src/config/mirror.ts) */
export interface UpstreamEndpoint {
  readonly name: string;
  readonly remoteurl: string;
  readonly username?: string;
  readonly password?: string;
}

export interface UpstreamClientOptions {
  /** milliseconds since the epoch; tests pass a clock of their own */
  readonly now?: () => number;
  /** bound on connecting and on waiting for response headers; default 30 s */
  readonly headersTimeoutMs?: number;
  /** bound on a pause in a response body; default 60 s */
  readonly bodyTimeoutMs?: number;
  /** names asked for per page of a tag list or the catalog (`n`); default 1000 */
  readonly listPageSize?: number;
}

export interface FetchedManifest {
  /** verified against the bytes */
  readonly digest: string;
  /** the upstream's Content-Type, without parameters (undefined when it sent none) */
  readonly contentType: string | undefined;
  readonly content: Uint8Array;
}

export interface ManifestHead {
  /** Docker-Content-Digest; undefined when the upstream does not send it */
  readonly digest: string | undefined;
  readonly contentType: string | undefined;
}

export interface UpstreamBlob {
  /** Content-Length; undefined when the upstream does not announce it */
  readonly size: number | undefined;
  /** the bytes; whoever takes it consumes or destroys it */
  readonly body: Readable;
}

/**
 * Drops a reply body nobody will read. undici's body, destroyed before its end, emits an AbortError; with no
 * listener that is an uncaught exception, which would take the whole server down for one upstream's bad reply.
 */
export function discardBody(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** every manifest type stowage stores, OCI and Docker, lists and images */
export const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST].join(', ');
/** manifests larger than this are refused (the registry's own limit, src/registry/manifests.ts) */
const MAX_UPSTREAM_MANIFEST = 4 * 1024 * 1024;
/** the token spec's default lifetime when a token server names none */
const DEFAULT_TOKEN_SECONDS = 60;
/** a token is renewed this long before it expires, so no request carries one that expires on the way */
const TOKEN_MARGIN_MS = 5_000;
const MAX_REDIRECTS = 5;
/** names asked for per page of a tag list or the catalog (by default), the bytes one page may take, and the pages followed */
const LIST_PAGE_SIZE = 1000;
const MAX_LIST_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_LIST_PAGES = 1000;

const pullScope = (repository: string): string => `repository:${repository}:pull`;

interface CachedToken {
  readonly authorization: string;
  readonly expiresAt: number;
}

type Headers = Record<string, string>;
type Reply = Dispatcher.ResponseData;

export class UpstreamClient {
  private readonly agent: Agent;
  private readonly now: () => number;
  private readonly base: URL;
  /** Bearer tokens by realm, service and scope */
  private readonly tokens = new Map<string, CachedToken>();
  /** the Bearer challenge seen last per scope, so a token can be fetched before the next request */
  private readonly bearerChallenges = new Map<string, AuthChallenge>();
  private usesBasic = false;
  private readonly listPageSize: number;

  constructor(
    readonly endpoint: UpstreamEndpoint,
    options: UpstreamClientOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.listPageSize = options.listPageSize ?? LIST_PAGE_SIZE;
    this.base = new URL(endpoint.remoteurl.endsWith('/') ? endpoint.remoteurl : `${endpoint.remoteurl}/`);
    const headersTimeout = options.headersTimeoutMs ?? 30_000;
    this.agent = new (undici().Agent)({ headersTimeout, bodyTimeout: options.bodyTimeoutMs ?? 60_000, connect: { timeout: headersTimeout } });
  }

  /** A manifest by tag or digest, its digest verified against its bytes. */
  async getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const reply = await this.send('GET', `${repository}/manifests/${reference}`, pullScope(repository), { Accept: MANIFEST_ACCEPT }, signal);
    const content = await readLimited(reply, MAX_UPSTREAM_MANIFEST, this.endpoint.name).catch((err: unknown) => {
      if (isUpstreamError(err) || signal?.aborted) throw err;
      throw new UpstreamError('unavailable', `upstream ${this.endpoint.name} broke off manifest ${repository}:${reference}: ${(err as Error).message}`, undefined, { cause: err });
    });
    const announced = headerOf(reply, 'docker-content-digest');
    const expected = reference.includes(':') ? reference : announced;
    const parsed = expected !== undefined ? tryParseDigest(expected) : undefined;
    const digest = digestBytes(content, parsed?.algorithm ?? 'sha256');
    if (expected !== undefined && digest !== expected) {
      throw new UpstreamError('invalid', `upstream ${this.endpoint.name} sent manifest ${repository}:${reference} with digest ${digest}, not ${expected}`);
    }
    return { digest, contentType: bareMediaType(headerOf(reply, 'content-type')), content };
  }

  /** A manifest's digest and type without its bytes (HEAD). */
  async headManifest(repository: string, reference: string, signal?: AbortSignal): Promise<ManifestHead> {
    const reply = await this.send('HEAD', `${repository}/manifests/${reference}`, pullScope(repository), { Accept: MANIFEST_ACCEPT }, signal);
    await reply.body.dump();
    const digest = headerOf(reply, 'docker-content-digest');
    return { digest: digest !== undefined && tryParseDigest(digest) ? digest : undefined, contentType: bareMediaType(headerOf(reply, 'content-type')) };
  }

  /** A blob's bytes, streamed (GET); the caller verifies the digest as the bytes pass. */
  async getBlob(repository: string, digest: string, signal?: AbortSignal): Promise<UpstreamBlob> {
    const reply = await this.send('GET', `${repository}/blobs/${digest}`, pullScope(repository), {}, signal);
    return { size: contentLengthOf(reply), body: reply.body };
  }

  /** A blob's size (HEAD), undefined when the upstream does not announce it. */
  async headBlob(repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
    const reply = await this.send('HEAD', `${repository}/blobs/${digest}`, pullScope(repository), {}, signal);
    await reply.body.dump();
    return contentLengthOf(reply);
  }

  /** Every tag of `repository` (scheduled sync), following the pages the upstream links with `Link: <…>; rel="next"`. */
  async listTags(repository: string, signal?: AbortSignal): Promise<string[]> {
    return this.listPages(`${repository}/tags/list?n=${this.listPageSize}`, pullScope(repository), 'tags', signal);
  }

  /** Every repository of the upstream's `/v2/_catalog` (scheduled sync's repository globs); paged like tags. */
  async listRepositories(signal?: AbortSignal): Promise<string[]> {
    return this.listPages(`_catalog?n=${this.listPageSize}`, 'registry:catalog:*', 'repositories', signal);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The names of a paged list answer (`{"tags": [...]}`, `{"repositories": [...]}`), page after page. */
  private async listPages(first: string, scope: string, field: 'tags' | 'repositories', signal: AbortSignal | undefined): Promise<string[]> {
    const names: string[] = [];
    const api = new URL('v2/', this.base);
    let next: string | undefined = first;
    for (let page = 0; next !== undefined; page++) {
      if (page >= MAX_LIST_PAGES) throw new UpstreamError('invalid', `upstream ${this.endpoint.name} linked more than ${MAX_LIST_PAGES} pages of ${field}`);
      const reply = await this.send('GET', next, scope, { Accept: 'application/json' }, signal);
      const bytes = await readLimited(reply, MAX_LIST_PAGE_BYTES, this.endpoint.name, `a page of ${field}`);
      let listed: unknown;
      try {
        listed = (JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown> | null)?.[field];
      } catch {
        throw new UpstreamError('invalid', `upstream ${this.endpoint.name} answered /v2/${next} with something that is not JSON`);
      }
      // distribution answers `"tags": null` for a repository without tags
      if (listed !== null && listed !== undefined && (!Array.isArray(listed) || listed.some((name) => typeof name !== 'string'))) {
        throw new UpstreamError('invalid', `upstream ${this.endpoint.name} answered /v2/${next} without a list of ${field}`);
      }
      names.push(...((listed as string[] | null | undefined) ?? []));
      const link = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(headerOf(reply, 'link') ?? '')?.[1];
      if (link === undefined) {
        next = undefined;
        continue;
      }
      const target: URL = new URL(link, new URL(next, api));
      if (target.origin !== api.origin || !target.pathname.startsWith(api.pathname)) {
        throw new UpstreamError('invalid', `upstream ${this.endpoint.name} linked the next page of ${field} outside its API (${target.origin}${target.pathname})`);
      }
      next = `${target.pathname.slice(api.pathname.length)}${target.search}`;
    }
    return names;
  }

  /**
   * One API request with the authorization the upstream wants: what is known for the scope first, then,
   * on a 401, whatever its challenge asks for, once. Answers only a 2xx reply (redirects followed);
   * anything else is thrown as an UpstreamError.
   */
  private async send(method: 'GET' | 'HEAD', apiPath: string, scope: string, headers: Headers, signal: AbortSignal | undefined): Promise<Reply> {
    const url = new URL(`v2/${apiPath}`, this.base);
    let authorization = await this.knownAuthorization(scope, signal);
    let reply = await this.follow(method, url, { ...headers, ...(authorization ? { Authorization: authorization } : {}) }, signal);
    if (reply.statusCode === 401) {
      const challenges = parseChallenges(reply.headers['www-authenticate']);
      await reply.body.dump();
      authorization = await this.answer(challenges, scope, signal);
      if (authorization === undefined) throw this.refused(401, challenges.length === 0 ? 'without a WWW-Authenticate challenge' : `with a challenge stowage cannot answer (${challenges.map((c) => c.scheme).join(', ')})`);
      reply = await this.follow(method, url, { ...headers, Authorization: authorization }, signal);
      if (reply.statusCode === 401) {
        await reply.body.dump();
        this.forget(scope);
        throw this.refused(401, 'after authenticating');
      }
    }
    if (reply.statusCode >= 200 && reply.statusCode < 300) return reply;
    await reply.body.dump();
    throw this.failureOf(reply.statusCode, `${method} /v2/${apiPath}`);
  }

  /** Sends a request, following redirects; the Authorization header goes only to the upstream's own origin. */
  private async follow(method: 'GET' | 'HEAD', start: URL, headers: Headers, signal: AbortSignal | undefined): Promise<Reply> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const sameOrigin = url.origin === this.base.origin;
      const { Authorization: _dropped, ...anonymous } = headers;
      let reply: Reply;
      try {
        reply = await undici().request(url, { method, headers: sameOrigin ? headers : anonymous, dispatcher: this.agent, ...(signal ? { signal } : {}) });
      } catch (err) {
        if (signal?.aborted) throw err;
        throw new UpstreamError('unavailable', `upstream ${this.endpoint.name} (${this.base.origin}) cannot be reached: ${(err as Error).message}`, undefined, { cause: err });
      }
      const location = headerOf(reply, 'location');
      if (![301, 302, 303, 307, 308].includes(reply.statusCode) || location === undefined) return reply;
      await reply.body.dump();
      if (hop >= MAX_REDIRECTS) throw new UpstreamError('invalid', `upstream ${this.endpoint.name} redirected more than ${MAX_REDIRECTS} times`);
      url = new URL(location, url);
    }
  }

  /** The Authorization to send before any challenge: a live token for the scope, or Basic once Basic was asked for. */
  private async knownAuthorization(scope: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    if (this.usesBasic) return this.basic();
    const challenge = this.bearerChallenges.get(scope);
    if (!challenge) return undefined;
    return this.bearer(challenge, scope, signal);
  }

  private async answer(challenges: readonly AuthChallenge[], scope: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      this.bearerChallenges.set(scope, bearer);
      this.tokens.delete(tokenKey(bearer, scope));
      return this.bearer(bearer, scope, signal);
    }
    if (challenges.some((c) => c.scheme === 'basic') && this.endpoint.username !== undefined) {
      this.usesBasic = true;
      return this.basic();
    }
    return undefined;
  }

  private basic(): string {
    return `Basic ${Buffer.from(`${this.endpoint.username ?? ''}:${this.endpoint.password ?? ''}`).toString('base64')}`;
  }

  /** A token for the challenge's realm and service and our scope, from the cache or the token server. */
  private async bearer(challenge: AuthChallenge, scope: string, signal: AbortSignal | undefined): Promise<string> {
    const key = tokenKey(challenge, scope);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.authorization;
    const realm = new URL(challenge.params.realm!);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    const headers: Headers = this.endpoint.username !== undefined ? { Authorization: this.basic() } : {};
    let reply: Reply;
    try {
      reply = await undici().request(realm, { method: 'GET', headers, dispatcher: this.agent, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new UpstreamError('unavailable', `the token server of upstream ${this.endpoint.name} (${realm.origin}) cannot be reached: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (reply.statusCode === 401 || reply.statusCode === 403) {
      await reply.body.dump();
      throw this.refused(reply.statusCode, 'at its token server');
    }
    if (reply.statusCode !== 200) {
      await reply.body.dump();
      throw this.failureOf(reply.statusCode, 'its token server');
    }
    const body = (await reply.body.json().catch(() => undefined)) as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown } | undefined;
    const token = typeof body?.token === 'string' && body.token ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new UpstreamError('invalid', `the token server of upstream ${this.endpoint.name} answered without a token`);
    const seconds = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const authorization = `Bearer ${token}`;
    this.tokens.set(key, { authorization, expiresAt: this.now() + seconds * 1000 - TOKEN_MARGIN_MS });
    return authorization;
  }

  private forget(scope: string): void {
    const challenge = this.bearerChallenges.get(scope);
    if (challenge) this.tokens.delete(tokenKey(challenge, scope));
  }

  private refused(status: number, how: string): UpstreamError {
    const who = this.endpoint.username !== undefined ? `the credentials configured for it (user ${this.endpoint.username})` : 'anonymous pulls (no credentials are configured for it)';
    return new UpstreamError(status === 403 ? 'denied' : 'unauthorized', `upstream ${this.endpoint.name} (${this.base.origin}) refused ${who} ${how}`, status);
  }

  private failureOf(status: number, what: string): UpstreamError {
    const where = `upstream ${this.endpoint.name} (${this.base.origin})`;
    if (status === 404) return new UpstreamError('not-found', `${where} does not know ${what}`, status);
    if (status === 403) return this.refused(403, `for ${what}`);
    if (status === 429) return new UpstreamError('too-many-requests', `${where} is rate-limiting this mirror (429 on ${what})`, status);
    if (status >= 500) return new UpstreamError('unavailable', `${where} failed (${status} on ${what})`, status);
    return new UpstreamError('invalid', `${where} answered ${status} to ${what}`, status);
  }
}

const tokenKey = (challenge: AuthChallenge, scope: string): string => `${challenge.params.realm}\u0000${challenge.params.service ?? ''}\u0000${scope}`;

function headerOf(reply: Reply, name: string): string | undefined {
  const value = reply.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function contentLengthOf(reply: Reply): number | undefined {
  const value = headerOf(reply, 'content-length');
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

async function readLimited(reply: Reply, limit: number, upstream: string, what = 'a manifest'): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of reply.body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > limit) {
      reply.body.destroy();
      throw new UpstreamError('invalid', `upstream ${upstream} sent ${what} larger than ${limit} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}
