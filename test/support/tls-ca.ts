/** A certificate authority of the tests' own, made with the openssl CLI: server and client certificates for TLS tests. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends IssuedCertificate {
  /** a certificate for `names` (DNS names or IPs) signed by this CA */
  issue(id: string, options: { cn: string; names?: readonly string[]; client?: boolean; days?: number }): IssuedCertificate;
}

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

export function createTestCa(dir: string, id = 'ca'): TestCa {
  const ca = { cert: path.join(dir, `${id}.crt`), key: path.join(dir, `${id}.key`) };
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=stowage test ${id}`, '-keyout', ca.key, '-out', ca.cert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return {
    ...ca,
    issue(name, { cn, names = [], client = false, days = 2 }) {
      const issued = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
      const csr = path.join(dir, `${name}.csr`);
      const ext = path.join(dir, `${name}.ext`);
      const san = names.map((entry) => (/^[\d.]+$|:/.test(entry) ? `IP:${entry}` : `DNS:${entry}`)).join(',');
      writeFileSync(ext, [`basicConstraints=CA:FALSE`, `extendedKeyUsage=${client ? 'clientAuth' : 'serverAuth'}`, ...(san ? [`subjectAltName=${san}`] : [])].join('\n') + '\n');
      openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', issued.key, '-out', csr]);
      openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(days), '-extfile', ext, '-out', issued.cert]);
      return issued;
    },
  };
}
