/**
 * The one door every request goes through once `auth` is configured: who is calling (Basic against htpasswd,
 * a Bearer token, or a verified client certificate), then whether the access the route declares is granted.
 * Deny by default: an anonymous caller gets only what `auth.access.anonymouspull` allows.
 */
import type { IncomingMessage } from 'node:http';
import { AccessPolicy, ALLOW_AUTHENTICATED, type AccessConfig } from './access.js';
import { actionsFor, denied, unauthorized, type Challenge, type RouteAccess } from './challenge.js';
import { clientCertificateName, parseBasic, parseBearer } from './credentials.js';
import type { HtpasswdUsers } from './htpasswd.js';
import type { TokenIssuer } from './issuer.js';
import { TokenRejected, tokenGrants, type TokenAccess, type TokenVerifier } from './token.js';

export interface Caller {
  /** undefined: anonymous */
  readonly user?: string;
  /** what a Bearer token grants; undefined for other callers (the rules alone decide) */
  readonly token?: readonly TokenAccess[];
}

export interface AuthGateOptions {
  readonly htpasswd?: { readonly users: HtpasswdUsers; readonly realm: string };
  readonly token?: { readonly verifier: TokenVerifier; readonly realm: string; readonly service: string };
  readonly access?: AccessConfig;
  /** mount without `from` (any repository's blob, by digest) */
  readonly automount: boolean;
  readonly issuer?: { readonly path: string; readonly server: TokenIssuer };
}

export class AuthGate {
  private readonly policy: Pick<AccessPolicy, 'allowed'>;
  readonly automount: boolean;
  readonly issuer: AuthGateOptions['issuer'];

  constructor(private readonly options: AuthGateOptions) {
    this.policy = options.access ? new AccessPolicy(options.access) : ALLOW_AUTHENTICATED;
    this.automount = options.automount;
    this.issuer = options.issuer;
  }

  /** The challenge 401s carry; a relative token realm (`/auth/token`) is made absolute from the request. */
  private challenge(req: IncomingMessage): Challenge | undefined {
    const { token, htpasswd } = this.options;
    if (token) {
      let realm = token.realm;
      if (realm.startsWith('/')) {
        const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
        realm = `${scheme}://${req.headers.host ?? 'localhost'}${realm}`;
      }
      return { scheme: 'Bearer', realm, service: token.service };
    }
    if (htpasswd) return { scheme: 'Basic', realm: htpasswd.realm };
    return undefined;
  }

  /** Checks the request's credentials and the route's access; throws 401/403 HttpErrors. */
  async admit(req: IncomingMessage, access: RouteAccess, name: string): Promise<Caller> {
    const refused = { access, name };
    const challenge = this.challenge(req);
    const caller = await this.identify(req, challenge, refused);
    if (access === 'base') {
      // `/v2/` is where clients learn they must log in; with only client certificates there is nothing to log in to
      if (caller.user === undefined && challenge) throw unauthorized(challenge, refused);
      return caller;
    }
    if (access === 'catalog') {
      if (caller.token && !tokenGrants(caller.token, 'registry', 'catalog', ['*'])) throw unauthorized(challenge, refused, 'token does not grant the catalog', 'insufficient_scope');
      if (caller.user === undefined && !caller.token && challenge) throw unauthorized(challenge, refused);
      return caller;
    }
    const actions = actionsFor(access);
    if (caller.token && !tokenGrants(caller.token, 'repository', name, actions)) {
      throw unauthorized(challenge, refused, `token does not grant ${actions.join(',')} on ${name}`, 'insufficient_scope');
    }
    if (this.mayAll(caller, name, actions)) return caller;
    if (caller.user === undefined) throw unauthorized(challenge, refused);
    throw denied(refused);
  }

  /** Whether `caller` may pull `name` (the catalog filter, and the check on a mount's source). */
  mayPull(caller: Caller, name: string): boolean {
    if (caller.token && !tokenGrants(caller.token, 'repository', name, ['pull']) && !tokenGrants(caller.token, 'registry', 'catalog', ['*'])) return false;
    return this.mayAll(caller, name, ['pull']);
  }

  private mayAll(caller: Caller, name: string, actions: readonly string[]): boolean {
    // without rules of our own a token's grants (checked before this) decide alone, as in distribution:
    // an external token server may grant anonymous pulls with a token whose `sub` is empty
    if (caller.token && !this.options.access) return true;
    const allowed = this.policy.allowed(caller.user, name);
    return actions.every((action) => allowed.has(action as 'pull'));
  }

  private async identify(req: IncomingMessage, challenge: Challenge | undefined, refused: { access: RouteAccess; name: string }): Promise<Caller> {
    const header = req.headers.authorization;
    const { htpasswd, token } = this.options;
    if (header !== undefined) {
      const bearer = parseBearer(header);
      if (bearer !== undefined && token) {
        try {
          const verified = await token.verifier.verify(bearer);
          return { ...(verified.subject ? { user: verified.subject } : {}), token: verified.access };
        } catch (err) {
          const reason = err instanceof TokenRejected ? err.message : 'token rejected';
          throw unauthorized(challenge, refused, reason, 'invalid_token');
        }
      }
      const basic = parseBasic(header);
      if (basic !== undefined && htpasswd && !token) {
        if (basic !== 'malformed' && (await htpasswd.users.verify(basic.user, basic.password))) return { user: basic.user };
        throw unauthorized(challenge, refused, 'invalid username or password');
      }
      throw unauthorized(challenge, refused, 'unsupported authorization scheme');
    }
    const certificateName = clientCertificateName(req);
    return certificateName !== undefined ? { user: certificateName } : {};
  }
}
