import { accessSync, constants } from 'node:fs';
import { boolean, object, record, string } from '../../core/config/schema.js';
import { defaultClientTls, type ClientTlsConfig } from '../helper/http.js';
import { defaultHelperConfig, helperSchemaFields, type ExporterHelperConfig } from '../helper/config.js';

export type OtlpProtocol = 'grpc' | 'http/protobuf';

export interface OtlpExporterTlsConfig extends ClientTlsConfig {
  /**
   * gRPC only: connect without TLS. Default false, so a gRPC endpoint without a scheme uses TLS,
   * as in the OpenTelemetry Collector; an `http://` or `https://` scheme overrides this.
   */
  insecure: boolean;
}

export interface OtlpExporterConfig extends ExporterHelperConfig {
  /** `grpc` (default) or `http/protobuf`, the names OTEL_EXPORTER_OTLP_PROTOCOL uses. */
  protocol: OtlpProtocol;
  /**
   * The destination. gRPC: `host:port`, optionally with an `http://` (plaintext) or `https://`
   * (TLS) scheme. HTTP: a base URL, to which `/v1/traces`, `/v1/logs` or `/v1/metrics` is
   * appended. Required unless every signal's own endpoint is set.
   */
  endpoint: string;
  /** HTTP only: full URLs per signal, used as they are instead of `endpoint` plus the path. Default empty. */
  traces_endpoint: string;
  logs_endpoint: string;
  metrics_endpoint: string;
  /** `gzip` (default) or `none`. */
  compression: 'gzip' | 'none';
  /** Extra headers (HTTP) or metadata (gRPC) on every request, such as an API key from `${env:…}`. Default none. */
  headers: Record<string, string>;
  tls: OtlpExporterTlsConfig;
}

export function createDefaultConfig(): OtlpExporterConfig {
  return {
    ...defaultHelperConfig(),
    protocol: 'grpc',
    endpoint: '',
    traces_endpoint: '',
    logs_endpoint: '',
    metrics_endpoint: '',
    compression: 'gzip',
    headers: {},
    tls: { ...defaultClientTls(), insecure: false },
  };
}

export const schema = object({
  protocol: string({ enum: ['grpc', 'http/protobuf'] as const }),
  endpoint: string(),
  traces_endpoint: string(),
  logs_endpoint: string(),
  metrics_endpoint: string(),
  compression: string({ enum: ['gzip', 'none'] as const }),
  headers: record(string({ allowEmpty: true })),
  tls: object({
    insecure: boolean(),
    ca_file: string({ allowEmpty: true }),
    cert_file: string({ allowEmpty: true }),
    key_file: string({ allowEmpty: true }),
    insecure_skip_verify: boolean(),
    server_name_override: string({ allowEmpty: true }),
  }),
  ...helperSchemaFields,
});

const GRPC_ENDPOINT = /^(?:(https?):\/\/)?((?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5})\/?$/;

/** Splits a gRPC endpoint into the `host:port` target and whether to use TLS. */
export function grpcTarget(config: OtlpExporterConfig): { target: string; secure: boolean } {
  const match = GRPC_ENDPOINT.exec(config.endpoint);
  if (!match) throw new Error(`invalid gRPC endpoint ${JSON.stringify(config.endpoint)}; expected host:port`);
  const scheme = match[1];
  return { target: match[2], secure: scheme ? scheme === 'https' : !config.tls.insecure };
}

/** Cross-field checks: an endpoint of the protocol's form, and readable TLS files. */
export function validateConfig(config: OtlpExporterConfig, report: (message: string, path?: string) => void): void {
  if (config.protocol === 'grpc') {
    if (config.endpoint === '') report('missing required key "endpoint", such as backend.example.com:4317', 'endpoint');
    else if (!GRPC_ENDPOINT.test(config.endpoint)) report(`must be host:port, optionally after http:// or https://, got ${JSON.stringify(config.endpoint)}`, 'endpoint');
    for (const key of ['traces_endpoint', 'logs_endpoint', 'metrics_endpoint'] as const) {
      if (config[key] !== '') report(`${key} applies only to protocol http/protobuf; use endpoint with grpc`, key);
    }
  } else {
    const perSignal = [config.traces_endpoint, config.logs_endpoint, config.metrics_endpoint];
    if (config.endpoint === '' && perSignal.some((value) => value === '')) {
      report('missing required key "endpoint", such as https://backend.example.com:4318', 'endpoint');
    }
    for (const key of ['endpoint', 'traces_endpoint', 'logs_endpoint', 'metrics_endpoint'] as const) {
      if (config[key] !== '' && !isHttpUrl(config[key])) report(`must be an http or https URL, got ${JSON.stringify(config[key])}`, key);
    }
  }
  if ((config.tls.cert_file === '') !== (config.tls.key_file === '')) report('cert_file and key_file must be set together for mutual TLS', 'tls');
  for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
    const path = config.tls[key];
    if (path !== '' && !isReadable(path)) report(`${key} ${JSON.stringify(path)} cannot be read; check the path and its permissions`, `tls.${key}`);
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
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
