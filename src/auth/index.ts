/** The auth gate built from the `auth` section: which authenticators, which rules, the built-in token server. */
import type { AuthConfig } from '../config/types.js';
import { parseDurationMs } from '../registry/duration.js';
import { AccessPolicy, ALLOW_AUTHENTICATED } from './access.js';
import { AuthGate } from './gate.js';
import { HtpasswdUsers } from './htpasswd.js';
import { TokenIssuer } from './issuer.js';
import { TokenVerifier } from './token.js';

export { AuthGate, type Caller } from './gate.js';
export type { RouteAccess } from './challenge.js';

/** A setting that cannot work as written; the message names the key. */
export class AuthConfigError extends Error {}

/** undefined when no `auth` is configured: every request is admitted, as before. */
export function createAuthGate(auth: AuthConfig | undefined): AuthGate | undefined {
  if (!auth) return undefined;
  const { htpasswd, token, tokenserver, access } = auth;
  try {
    const users = htpasswd ? HtpasswdUsers.fromFile(htpasswd.path) : undefined;
    let issuer: { path: string; server: TokenIssuer } | undefined;
    if (tokenserver) {
      if (!token) throw new AuthConfigError('auth.tokenserver needs auth.token (realm, service, issuer) to know what to issue');
      if (!users) throw new AuthConfigError('auth.tokenserver needs auth.htpasswd: its users are who may log in');
      const server = new TokenIssuer({
        users,
        policy: access ? new AccessPolicy(access) : ALLOW_AUTHENTICATED,
        issuer: token.issuer,
        service: token.service,
        realm: htpasswd?.realm ?? token.service,
        expirationSeconds: Math.max(1, Math.floor(parseDurationMs(tokenserver.expiration) / 1000)),
        ...(tokenserver.key ? { keyFile: tokenserver.key } : {}),
      });
      issuer = { path: new URL(token.realm, 'http://registry.invalid').pathname, server };
    }
    let verifier: TokenVerifier | undefined;
    if (token) {
      if (!token.rootcertbundle && !token.jwks && !issuer) {
        throw new AuthConfigError('auth.token needs rootcertbundle or jwks (the keys that sign tokens), or auth.tokenserver');
      }
      verifier = new TokenVerifier(token, issuer ? new Map([[issuer.server.keyId, issuer.server.publicKey]]) : new Map());
    }
    return new AuthGate({
      ...(users && htpasswd ? { htpasswd: { users, realm: htpasswd.realm } } : {}),
      ...(verifier && token ? { token: { verifier, realm: token.realm, service: token.service } } : {}),
      ...(access ? { access } : {}),
      automount: auth.automount ?? false,
      ...(issuer ? { issuer } : {}),
    });
  } catch (err) {
    if (err instanceof AuthConfigError) throw err;
    throw new AuthConfigError(`auth: ${(err as Error).message}`);
  }
}
