import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { ConfigError, loadConfigText } from '../../../core/config/load.js';
import type { ConfigIssue } from '../../../core/config/node.js';
import { grpcTarget, type OtlpExporterConfig } from '../../../exporters/otlp/config.js';

const registry = builtinRegistry();

function configWith(exporter: string): string {
  return `receivers:
  otlp: { protocols: { grpc: } }
exporters:
  otlp:
${exporter}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
`;
}

function issuesOf(exporter: string): ConfigIssue[] {
  try {
    loadConfigText(configWith(exporter), 'otlp.yaml', registry, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

function exporterConfig(exporter: string): OtlpExporterConfig {
  return loadConfigText(configWith(exporter), 'otlp.yaml', registry, {}).exporters.get('otlp')?.config as OtlpExporterConfig;
}

describe('otlp exporter config', () => {
  it('defaults to gRPC with TLS and gzip', () => {
    const config = exporterConfig('    endpoint: backend.example.com:4317');

    expect(config.protocol).toBe('grpc');
    expect(config.compression).toBe('gzip');
    expect(grpcTarget(config)).toEqual({ target: 'backend.example.com:4317', secure: true });
  });

  it('takes TLS from the endpoint scheme or tls.insecure', () => {
    expect(grpcTarget(exporterConfig('    endpoint: http://127.0.0.1:4317'))).toEqual({ target: '127.0.0.1:4317', secure: false });
    expect(grpcTarget(exporterConfig('    endpoint: https://[::1]:4317/'))).toEqual({ target: '[::1]:4317', secure: true });
    expect(grpcTarget(exporterConfig('    endpoint: 127.0.0.1:4317\n    tls: { insecure: true }'))).toEqual({ target: '127.0.0.1:4317', secure: false });
  });

  it('needs an endpoint', () => {
    const issues = issuesOf('    compression: none');

    expect(issues.map((issue) => issue.message)).toEqual(['missing required key "endpoint", such as backend.example.com:4317']);
    expect(issues[0].path).toBe('exporters.otlp');
  });

  it('rejects endpoints of the wrong form', () => {
    expect(issuesOf('    endpoint: backend.example.com')[0].message).toBe('must be host:port, optionally after http:// or https://, got "backend.example.com"');
    expect(issuesOf('    protocol: http/protobuf\n    endpoint: backend.example.com:4318')[0].message).toBe('must be an http or https URL, got "backend.example.com:4318"');
  });

  it('keeps per-signal URLs to HTTP', () => {
    const issues = issuesOf('    endpoint: backend:4317\n    traces_endpoint: http://backend:4318/v1/traces');

    expect(issues[0].path).toBe('exporters.otlp.traces_endpoint');
    expect(issues[0].message).toBe('traces_endpoint applies only to protocol http/protobuf; use endpoint with grpc');
    expect(issues[0].line).toBe(6);
  });

  it('accepts per-signal URLs instead of an endpoint over HTTP', () => {
    const config = exporterConfig('    protocol: http/protobuf\n    traces_endpoint: http://a:4318/t\n    logs_endpoint: http://a:4318/l\n    metrics_endpoint: http://a:4318/m');

    expect(config.endpoint).toBe('');
    expect(config.traces_endpoint).toBe('http://a:4318/t');
  });

  it('needs the client certificate and key together', () => {
    const issues = issuesOf('    endpoint: backend:4317\n    tls: { cert_file: /dev/null }');

    expect(issues.map((issue) => issue.message)).toEqual(['cert_file and key_file must be set together for mutual TLS']);
  });

  it('rejects an unknown compression', () => {
    const issues = issuesOf('    endpoint: backend:4317\n    compression: zstd');

    expect(issues[0].message).toBe('must be one of "gzip", "none", got "zstd"');
  });
});
