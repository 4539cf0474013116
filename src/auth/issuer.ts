/**
 * The built-in token issuer (`auth.tokenserver`): the docker token protocol at the path of `auth.token.realm`,
 * so `docker login` works with htpasswd users and no external server. GET with optional Basic credentials
 * and `service`/`scope` query parameters, or the OAuth2 POST (`grant_type=password`) containerd tries first.
 * A token grants the subset of the requested scope the access rules allow; never an error for asking more.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { ACTIONS, type AccessPolicy } from './access.js';
import { parseBasic } from './credentials.js';
import type { HtpasswdUsers } from './htpasswd.js';
import { libtrustKeyId, type TokenAccess } from './token.js';

export interface IssuerOptions {
  readonly users: HtpasswdUsers;
  readonly policy: Pick<AccessPolicy, 'allowed'>;
  readonly issuer: string;
  readonly service: string;
  readonly realm: string;
  readonly expirationSeconds: number;
  /** PEM private key file; a fresh P-256 key (tokens valid until restart) when absent */
  readonly keyFile?: string;
}

const MAX_FORM_BYTES = 64 * 1024;

function algorithmOf(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  throw new Error(`auth.tokenserver.key: unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (use RSA, EC P-256/384/521 or Ed25519)`);
}

/** `repository:a/b:pull,push` (the name may itself hold colons: type is before the first, actions after the last). */
export function parseScope(scope: string): TokenAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  return { type: scope.slice(0, first).replace(/\(.*\)$/, ''), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

export class TokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly algorithm: string;
  readonly keyId: string;
  readonly publicKey: KeyObject;

  constructor(private readonly options: IssuerOptions) {
    this.privateKey = options.keyFile
      ? createPrivateKey(readFileSync(options.keyFile, 'utf8'))
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    this.algorithm = algorithmOf(this.privateKey);
    this.publicKey = createPublicKey(this.privateKey);
    this.keyId = libtrustKeyId(this.publicKey);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST') return sendJson(res, 405, { error: 'unsupported_method' }, { Allow: 'GET, POST' });
    let user: string | undefined;
    let password: string | undefined;
    let params = url.searchParams;
    if (req.method === 'POST') {
      params = new URLSearchParams(await readForm(req));
      if (params.get('grant_type') !== 'password') return sendJson(res, 400, { error: 'unsupported_grant_type' });
      user = params.get('username') ?? undefined;
      password = params.get('password') ?? undefined;
    } else {
      const basic = parseBasic(req.headers.authorization);
      if (basic === 'malformed') return this.refuse(res);
      if (basic) ({ user, password } = basic);
    }
    const service = params.get('service');
    if (service !== null && service !== this.options.service) return sendJson(res, 400, { error: 'invalid_request', error_description: `unknown service ${JSON.stringify(service)}` });
    if (user !== undefined && !(await this.options.users.verify(user, password ?? ''))) return this.refuse(res);

    const access: TokenAccess[] = [];
    for (const scope of params.getAll('scope').flatMap((value) => value.split(' '))) {
      const wanted = parseScope(scope);
      if (!wanted) continue;
      const granted = this.grant(user, wanted);
      if (granted.length > 0) access.push({ ...wanted, actions: granted });
    }
    const issuedAt = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: this.algorithm, kid: this.keyId, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setSubject(user ?? '')
      .setAudience(this.options.service)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + this.options.expirationSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
    const body = { token, access_token: token, expires_in: this.options.expirationSeconds, issued_at: new Date(issuedAt * 1000).toISOString() };
    sendJson(res, 200, body, { 'Cache-Control': 'no-store' });
  }

  private grant(user: string | undefined, wanted: TokenAccess): string[] {
    if (wanted.type === 'registry' && wanted.name === 'catalog') return user !== undefined && wanted.actions.includes('*') ? ['*'] : [];
    if (wanted.type !== 'repository') return [];
    const allowed = this.options.policy.allowed(user, wanted.name);
    const asked = wanted.actions.includes('*') ? ACTIONS : wanted.actions;
    return asked.filter((action) => allowed.has(action as (typeof ACTIONS)[number]));
  }

  private refuse(res: ServerResponse): void {
    sendJson(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }, { 'WWW-Authenticate': `Basic realm="${this.options.realm}"` });
  }
}

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) break;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  for (const [name, headerValue] of Object.entries(headers)) res.setHeader(name, headerValue);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
