import { readFileSync } from 'node:fs';
import type { ServerTlsConfig } from './config.js';

/** The PEM contents of a listener's TLS files; `ca` is present for mutual TLS. */
export interface ServerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** Reads the certificate, key and client CA files named by a `tls` section. Throws when one cannot be read. */
export function readServerTls(tls: ServerTlsConfig): ServerTlsMaterial {
  return {
    cert: readFileSync(tls.cert_file),
    key: readFileSync(tls.key_file),
    ca: tls.client_ca_file ? readFileSync(tls.client_ca_file) : undefined,
  };
}
