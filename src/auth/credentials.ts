/** The credentials a request carries: `Authorization: Basic|Bearer`, and a verified TLS client certificate. */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface BasicCredentials {
  readonly user: string;
  readonly password: string;
}

/** undefined without a Basic header; 'malformed' when it is not base64 of `user:password`. */
export function parseBasic(header: string | undefined): BasicCredentials | 'malformed' | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return header !== undefined && /^Basic\b/i.test(header) ? 'malformed' : undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function parseBearer(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** The subject CN of a client certificate the TLS layer verified against `http.tls.clientcas`. */
export function clientCertificateName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (!socket.encrypted || socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' && cn !== '' ? cn : Array.isArray(cn) ? cn[0] : undefined;
}
