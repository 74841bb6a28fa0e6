import { readFileSync } from 'node:fs';
import type { SecureVersion } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { ServerTlsConfig } from './config.js';

/** The PEM contents of a listener's TLS files and its oldest TLS version; `ca` is present for mutual TLS. */
export interface ServerTlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  minVersion: SecureVersion;
}

/** Reads the certificate, key and client CA files named by a `tls` section. Throws when one cannot be read. */
export function readServerTls(tls: ServerTlsConfig): ServerTlsMaterial {
  return {
    cert: readFileSync(tls.cert_file),
    key: readFileSync(tls.key_file),
    ca: tls.client_ca_file ? readFileSync(tls.client_ca_file) : undefined,
    minVersion: tls.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

/**
 * gRPC server credentials from the same material as the HTTP listener. grpc-js's
 * `ServerCredentials.createSsl` takes no minimum TLS version, so this passes the options to the
 * HTTP/2 server through the `ServerCredentials` constructor, as `createSsl` does. With a client
 * CA, the handshake fails for a client without a certificate signed by it.
 */
export class GrpcServerTlsCredentials extends ServerCredentials {
  constructor(material: ServerTlsMaterial) {
    const requireClientCertificate = material.ca !== undefined;
    super(
      { requestCert: requireClientCertificate, rejectUnauthorized: requireClientCertificate, minVersion: material.minVersion },
      { cert: material.cert, key: material.key, ca: material.ca, minVersion: material.minVersion },
    );
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
