/**
 * Test PKI made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1/localhost,
 * a client certificate (mutual TLS), and a self-signed "rogue" server certificate that no
 * client trusts. Files land in a fresh temporary directory; callers remove it when done.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: CertPair;
  readonly server: CertPair;
  readonly client: CertPair;
  /** Self-signed, not issued by `ca`: what an impostor or a misconfigured switch presents. */
  readonly rogue: CertPair;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pair(dir: string, name: string): CertPair {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

const SERVER_EXT = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

export function generateTestPki(options: { days?: number } = {}): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'switchforge-pki-'));
  const days = String(options.days ?? 2);
  // P-256 keys in PKCS#8: accepted by Node, Go and OpenSSL alike.
  const key = (name: string) =>
    openssl(
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`],
      dir,
    );
  const selfSigned = (name: string, subject: string, ext: string[]) =>
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        `${name}.key`,
        '-sha256',
        '-days',
        days,
        '-subj',
        subject,
        '-out',
        `${name}.crt`,
        ...ext,
      ],
      dir,
    );
  const issued = (name: string, subject: string, extText: string) => {
    writeFileSync(path.join(dir, `${name}.ext`), extText);
    openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-sha256',
        '-days',
        days,
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  };

  for (const n of ['ca', 'server', 'client', 'rogue']) {
    key(n);
  }
  selfSigned('ca', '/CN=switchforge test CA', [
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  issued('server', '/CN=localhost', SERVER_EXT);
  issued('client', '/CN=switchforge-worker', CLIENT_EXT);
  selfSigned('rogue', '/CN=localhost', ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);

  return {
    dir,
    ca: pair(dir, 'ca'),
    server: pair(dir, 'server'),
    client: pair(dir, 'client'),
    rogue: pair(dir, 'rogue'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
