/**
 * `http.tls` as node's TLS server options: certificate and key, `clientcas` for mutual TLS (a client
 * without a certificate chaining to one of them is refused during the handshake, as distribution's
 * RequireAndVerifyClientCert does), and `minimumtls`.
 */
import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import type { SecureVersion } from 'node:tls';
import type { TlsConfig } from '../config/types.js';

const VERSIONS: Readonly<Record<TlsConfig['minimumtls'], SecureVersion>> = {
  'tls1.0': 'TLSv1',
  'tls1.1': 'TLSv1.1',
  'tls1.2': 'TLSv1.2',
  'tls1.3': 'TLSv1.3',
};

export class TlsFileError extends Error {}

function read(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(`cannot read ${file} (${key}): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export function tlsServerOptions(tls: TlsConfig): ServerOptions {
  const mutual = tls.clientcas.length > 0;
  return {
    cert: read(tls.certificate, 'http.tls.certificate'),
    key: read(tls.key, 'http.tls.key'),
    minVersion: VERSIONS[tls.minimumtls],
    ...(mutual ? { ca: tls.clientcas.map((file) => read(file, 'http.tls.clientcas')), requestCert: true, rejectUnauthorized: true } : {}),
  };
}
