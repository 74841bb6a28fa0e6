import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirectory } from './tmp.js';

/** Paths of a PEM certificate and its key, with the contents read back. */
export interface CertificateFiles {
  cert: string;
  key: string;
  certPem: Buffer;
  keyPem: Buffer;
}

export interface TestPki {
  directory: string;
  /** The CA that signs the server and the trusted client certificate. */
  ca: CertificateFiles;
  /** For 127.0.0.1, ::1 and localhost. */
  server: CertificateFiles;
  /** Signed by `ca`, for mutual TLS. */
  client: CertificateFiles;
  /** Signed by another CA that the server does not trust. */
  untrustedClient: CertificateFiles;
  cleanup(): void;
}

function openssl(directory: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: directory, stdio: 'pipe' });
}

function files(directory: string, name: string): CertificateFiles {
  const cert = join(directory, `${name}.crt`);
  const key = join(directory, `${name}.key`);
  return { cert, key, certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

function createCa(directory: string, name: string, subject: string): void {
  openssl(directory, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', subject]);
}

function createSigned(directory: string, name: string, ca: string, subject: string, extensions: string): void {
  writeFileSync(join(directory, `${name}.ext`), extensions);
  openssl(directory, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  openssl(directory, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

/**
 * Creates a throwaway PKI with openssl in a temporary directory: a CA, a server certificate for
 * the loopback addresses, a client certificate from the same CA, and one from an untrusted CA.
 */
export function createTestPki(): TestPki {
  const directory = tempDirectory('watchpost-pki-');
  const path = directory.path;
  createCa(path, 'ca', '/CN=Watchpost test CA');
  createCa(path, 'other-ca', '/CN=Untrusted test CA');
  createSigned(path, 'server', 'ca', '/CN=localhost',
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  createSigned(path, 'client', 'ca', '/CN=watchpost-test-client',
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  createSigned(path, 'untrusted-client', 'other-ca', '/CN=untrusted-client',
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return {
    directory: path,
    ca: files(path, 'ca'),
    server: files(path, 'server'),
    client: files(path, 'client'),
    untrustedClient: files(path, 'untrusted-client'),
    cleanup: directory.cleanup,
  };
}
