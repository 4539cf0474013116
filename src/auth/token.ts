/**
 * Bearer tokens per distribution's token spec: a JWT whose signature chains to `rootcertbundle` (by its
 * `x5c` header or by a `kid` naming a bundle key, libtrust-style) or to a key of the JWKS (file or URL);
 * `iss` must be `auth.token.issuer`, `aud` must include `auth.token.service`, `exp`/`nbf` hold (60 s
 * leeway, as distribution allows), and the `access` claim lists what it grants. jose does the JOSE work.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type CryptoKey, type JWSHeaderParameters, type JWTPayload } from 'jose';

export interface TokenAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

export interface VerifiedToken {
  /** `sub`; undefined for a token issued to an anonymous caller */
  readonly subject?: string;
  readonly access: readonly TokenAccess[];
}

export interface TokenVerifierConfig {
  readonly issuer: string;
  readonly service: string;
  /** PEM file of the certificates whose keys sign tokens */
  readonly rootcertbundle?: string;
  /** a JWKS file, or an http(s) URL of one */
  readonly jwks?: string;
  /** accepted `alg` values; every asymmetric JWS algorithm when absent */
  readonly signingalgorithms?: readonly string[];
}

export class TokenRejected extends Error {}

const LEEWAY_SECONDS = 60;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** libtrust's key id (what distribution's token servers put in `kid`): base32 of 240 bits of SHA-256(SPKI DER), in groups of 4. */
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  let bits = '';
  for (const byte of digest) bits += byte.toString(2).padStart(8, '0');
  let encoded = '';
  for (let i = 0; i < bits.length; i += 5) encoded += BASE32[Number.parseInt(bits.slice(i, i + 5), 2)];
  return encoded.match(/.{1,4}/g)!.join(':');
}

/** The certificates of a PEM bundle. */
export function readCertificates(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${file} holds no PEM certificate`);
  return blocks.map((block) => new X509Certificate(block));
}

type KeyResolver = (header: JWSHeaderParameters) => Promise<KeyObject | CryptoKey | Uint8Array>;

export class TokenVerifier {
  private readonly roots: readonly X509Certificate[];
  private readonly keysById = new Map<string, KeyObject>();
  private readonly jwks: ((header: JWSHeaderParameters) => Promise<CryptoKey>) | undefined;

  /** `trusted` adds keys beyond the configured ones (the built-in issuer's own). */
  constructor(
    private readonly config: TokenVerifierConfig,
    trusted: ReadonlyMap<string, KeyObject> = new Map(),
  ) {
    this.roots = config.rootcertbundle ? readCertificates(config.rootcertbundle) : [];
    for (const cert of this.roots) this.keysById.set(libtrustKeyId(cert.publicKey), cert.publicKey);
    for (const [kid, key] of trusted) this.keysById.set(kid, key);
    if (config.jwks === undefined) this.jwks = undefined;
    else if (/^https?:\/\//.test(config.jwks)) this.jwks = createRemoteJWKSet(new URL(config.jwks));
    else this.jwks = createLocalJWKSet(JSON.parse(readFileSync(config.jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
  }

  async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.resolveKey, {
        issuer: this.config.issuer,
        audience: this.config.service,
        algorithms: [...(this.config.signingalgorithms ?? ALGORITHMS)],
        clockTolerance: LEEWAY_SECONDS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (err instanceof TokenRejected) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new TokenRejected('token expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw new TokenRejected(`token claim "${err.claim}" invalid`);
      if (err instanceof joseErrors.JOSEError) throw new TokenRejected(`token rejected (${err.code})`);
      throw new TokenRejected('token rejected');
    }
    return { ...(payload.sub ? { subject: payload.sub } : {}), access: accessClaim(payload.access) };
  }

  private readonly resolveKey: KeyResolver = async (header) => {
    if (header.x5c && header.x5c.length > 0) return this.chainKey(header.x5c);
    if (header.kid !== undefined) {
      const known = this.keysById.get(header.kid);
      if (known) return known;
    }
    if (this.jwks) return this.jwks(header);
    throw new TokenRejected('token signed by an unknown key');
  };

  /** The leaf key of an `x5c` chain that ends at (or is signed by) a certificate of the bundle. */
  private chainKey(x5c: readonly string[]): KeyObject {
    const chain = x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) throw new TokenRejected('token x5c chain is broken');
    }
    const top = chain.at(-1)!;
    const anchored = this.roots.some((root) => root.fingerprint256 === top.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey)));
    if (!anchored) throw new TokenRejected('token x5c chain does not lead to auth.token.rootcertbundle');
    const now = Date.now();
    for (const cert of chain) {
      if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) throw new TokenRejected('token x5c certificate outside its validity');
    }
    return createPublicKey(chain[0]!.publicKey.export({ type: 'spki', format: 'pem' }));
  }
}

function accessClaim(value: unknown): TokenAccess[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TokenRejected('token "access" claim is not a list');
  return value.map((entry) => {
    const { type, name, actions } = (entry ?? {}) as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions) || !actions.every((a) => typeof a === 'string')) {
      throw new TokenRejected('token "access" claim entry malformed');
    }
    return { type, name, actions: actions as string[] };
  });
}

/** Whether the token grants every one of `actions` on the resource `type:name`. */
export function tokenGrants(access: readonly TokenAccess[], type: string, name: string, actions: readonly string[]): boolean {
  const held = new Set(access.filter((entry) => entry.type === type && entry.name === name).flatMap((entry) => entry.actions));
  return actions.every((action) => held.has(action) || held.has('*'));
}
