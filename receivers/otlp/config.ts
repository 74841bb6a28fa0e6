import { accessSync, constants } from 'node:fs';
import { endpoint, integer, object, string } from '../../core/config/schema.js';

/** TLS settings of a listener, named as in the OpenTelemetry Collector. */
export interface ServerTlsConfig {
  /** PEM file of the certificate chain the server presents. Required when `tls` is present. */
  cert_file: string;
  /** PEM file of the certificate's private key. Required when `tls` is present. */
  key_file: string;
  /**
   * PEM file of the CAs that sign client certificates. When set, every client must present a
   * certificate signed by one of them (mutual TLS). Default empty: no client certificate is asked for.
   */
  client_ca_file: string;
  /** The oldest TLS version accepted: `1.2` (default) or `1.3`. */
  min_version: '1.2' | '1.3';
}

export interface ServerAuthConfig {
  /**
   * The token clients must send as `Authorization: Bearer <token>` (HTTP) or in the
   * `authorization` metadata (gRPC). Set it from `${env:NAME}` rather than in the file. The
   * token is never logged. Empty turns authentication off.
   */
  bearer_token: string;
}

export interface OtlpGrpcConfig {
  /** Listen address; default 127.0.0.1:4317. */
  endpoint: string;
  /** Largest request accepted, in MiB, after decompression; larger ones get RESOURCE_EXHAUSTED. Default 4. */
  max_recv_msg_size_mib: number;
  /** Concurrent calls per connection; 0 leaves it unlimited. Default 0. */
  max_concurrent_streams: number;
  /** Message bytes held at once across calls, from receipt until the pipeline took them; past it a call gets UNAVAILABLE. Default 64 MiB. */
  max_inflight_bytes: number;
  /** TLS for the listener; absent means plaintext. */
  tls?: ServerTlsConfig;
  /** Client authentication; absent means none. */
  auth?: ServerAuthConfig;
}

export interface OtlpHttpConfig {
  /** Listen address; default 127.0.0.1:4318. */
  endpoint: string;
  /** Largest request body accepted, in bytes, after decompression; larger ones get 413. Default 20 MiB. */
  max_request_body_size: number;
  /** Request body bytes held at once across concurrent requests, from reading until the pipeline took them; past it new data gets 503. Default 64 MiB. */
  max_inflight_bytes: number;
  /** Path of the traces endpoint; default /v1/traces. */
  traces_url_path: string;
  /** Path of the logs endpoint; default /v1/logs. */
  logs_url_path: string;
  /** Path of the metrics endpoint; default /v1/metrics. */
  metrics_url_path: string;
  /** TLS for the listener; absent means plaintext. */
  tls?: ServerTlsConfig;
  /** Client authentication; absent means none. */
  auth?: ServerAuthConfig;
}

export interface OtlpReceiverConfig {
  /** A protocol runs only when its key is present; `grpc:` or `http:` with no value takes the defaults. */
  protocols: {
    grpc?: OtlpGrpcConfig;
    http?: OtlpHttpConfig;
  };
}

export function defaultGrpcConfig(): OtlpGrpcConfig {
  return {
    endpoint: '127.0.0.1:4317',
    max_recv_msg_size_mib: 4,
    max_concurrent_streams: 0,
    max_inflight_bytes: 64 * 1024 * 1024,
  };
}

export function defaultHttpConfig(): OtlpHttpConfig {
  return {
    endpoint: '127.0.0.1:4318',
    max_request_body_size: 20 * 1024 * 1024,
    max_inflight_bytes: 64 * 1024 * 1024,
    traces_url_path: '/v1/traces',
    logs_url_path: '/v1/logs',
    metrics_url_path: '/v1/metrics',
  };
}

export function defaultServerTls(): ServerTlsConfig {
  return { cert_file: '', key_file: '', client_ca_file: '', min_version: '1.2' };
}

export function defaultServerAuth(): ServerAuthConfig {
  return { bearer_token: '' };
}

export function createDefaultConfig(): OtlpReceiverConfig {
  return { protocols: {} };
}

const urlPath = () => string({ check: (text) => (text.startsWith('/') ? undefined : `must start with "/", got ${JSON.stringify(text)}`) });

const tlsSchema = () => object({
  cert_file: string(),
  key_file: string(),
  client_ca_file: string({ allowEmpty: true }),
  min_version: string({ enum: ['1.2', '1.3'] as const }),
}, { required: ['cert_file', 'key_file'] });

const authSchema = () => object({
  bearer_token: string({ allowEmpty: true }),
});

export const schema = object({
  protocols: object({
    grpc: object({
      endpoint: endpoint(),
      max_recv_msg_size_mib: integer({ min: 1, max: 2047 }),
      max_concurrent_streams: integer({ min: 0 }),
      max_inflight_bytes: integer({ min: 1 }),
      tls: tlsSchema(),
      auth: authSchema(),
    }),
    http: object({
      endpoint: endpoint(),
      max_request_body_size: integer({ min: 1 }),
      max_inflight_bytes: integer({ min: 1 }),
      traces_url_path: urlPath(),
      logs_url_path: urlPath(),
      metrics_url_path: urlPath(),
      tls: tlsSchema(),
      auth: authSchema(),
    }),
  }, { required: [] }),
}, { required: ['protocols'] });

/** Fills in the defaults of each enabled protocol and of its `tls` and `auth` sections. */
export function resolveProtocols(config: OtlpReceiverConfig): { grpc?: OtlpGrpcConfig; http?: OtlpHttpConfig } {
  const { grpc, http } = config.protocols;
  return {
    grpc: grpc ? withSections({ ...defaultGrpcConfig(), ...grpc }) : undefined,
    http: http ? withSections({ ...defaultHttpConfig(), ...http }) : undefined,
  };
}

function withSections<T extends { tls?: ServerTlsConfig; auth?: ServerAuthConfig }>(protocol: T): T {
  return {
    ...protocol,
    tls: protocol.tls ? { ...defaultServerTls(), ...protocol.tls } : undefined,
    auth: protocol.auth ? { ...defaultServerAuth(), ...protocol.auth } : undefined,
  };
}

/** Cross-field checks: at least one protocol, distinct URL paths, and readable TLS files. */
export function validateConfig(config: OtlpReceiverConfig, report: (message: string, path?: string) => void): void {
  const { grpc, http } = resolveProtocols(config);
  if (!grpc && !http) report('at least one protocol must be enabled; add "grpc:" or "http:" under protocols', 'protocols');
  if (http) {
    const paths = [http.traces_url_path, http.logs_url_path, http.metrics_url_path];
    if (new Set(paths).size !== paths.length) report(`traces_url_path, logs_url_path and metrics_url_path must differ, got ${paths.join(', ')}`, 'protocols.http');
    if (http.max_inflight_bytes < http.max_request_body_size) {
      report(`max_inflight_bytes (${http.max_inflight_bytes}) must be at least max_request_body_size (${http.max_request_body_size}), or a request of the largest size could never be read`, 'protocols.http.max_inflight_bytes');
    }
  }
  if (grpc && grpc.max_inflight_bytes < grpc.max_recv_msg_size_mib * 1024 * 1024) {
    report(`max_inflight_bytes (${grpc.max_inflight_bytes}) must be at least max_recv_msg_size_mib in bytes (${grpc.max_recv_msg_size_mib * 1024 * 1024}), or a message of the largest size could never be taken`, 'protocols.grpc.max_inflight_bytes');
  }
  for (const [name, protocol] of [['grpc', grpc], ['http', http]] as const) {
    const tls = protocol?.tls;
    if (!tls) continue;
    for (const key of ['cert_file', 'key_file', 'client_ca_file'] as const) {
      if (tls[key] && !isReadable(tls[key])) report(`${key} ${JSON.stringify(tls[key])} cannot be read; check the path and its permissions`, `protocols.${name}.tls.${key}`);
    }
  }
}

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
