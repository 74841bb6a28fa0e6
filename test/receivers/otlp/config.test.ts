import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { ConfigError, loadConfigText } from '../../../core/config/load.js';
import type { ConfigIssue } from '../../../core/config/node.js';
import { resolveProtocols, type OtlpReceiverConfig } from '../../../receivers/otlp/config.js';

const registry = builtinRegistry();

function configWith(receiver: string): string {
  return `receivers:
  otlp:
${receiver}
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;
}

function issuesOf(receiver: string): ConfigIssue[] {
  try {
    loadConfigText(configWith(receiver), 'otlp.yaml', registry, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

function receiverConfig(receiver: string, env: NodeJS.ProcessEnv = {}): OtlpReceiverConfig {
  return loadConfigText(configWith(receiver), 'otlp.yaml', registry, env).receivers.get('otlp')?.config as OtlpReceiverConfig;
}

describe('otlp receiver config', () => {
  it('fills in the defaults of each protocol', () => {
    const protocols = resolveProtocols(receiverConfig('    protocols:\n      grpc:\n      http:'));

    expect(protocols.grpc).toEqual({ endpoint: '127.0.0.1:4317', max_recv_msg_size_mib: 4, max_concurrent_streams: 0, max_inflight_bytes: 64 * 1024 * 1024, tls: undefined, auth: undefined });
    expect(protocols.http?.endpoint).toBe('127.0.0.1:4318');
    expect(protocols.http?.max_request_body_size).toBe(20 * 1024 * 1024);
    expect(protocols.http?.max_inflight_bytes).toBe(64 * 1024 * 1024);
  });

  it('fills in the defaults of tls and auth', () => {
    const protocols = resolveProtocols(receiverConfig('    protocols:\n      grpc:\n        tls: { cert_file: /dev/null, key_file: /dev/null }\n        auth: { bearer_token: "${env:TOKEN}" }', { TOKEN: 's3cret' }));

    expect(protocols.grpc?.tls).toEqual({ cert_file: '/dev/null', key_file: '/dev/null', client_ca_file: '', min_version: '1.2' });
    expect(protocols.grpc?.auth).toEqual({ bearer_token: 's3cret' });
  });

  it('needs at least one protocol', () => {
    const issues = issuesOf('    protocols: {}');

    expect(issues.map((issue) => issue.message)).toEqual(['at least one protocol must be enabled; add "grpc:" or "http:" under protocols']);
    expect(issues[0].path).toBe('receivers.otlp.protocols');
    expect(issues[0].line).toBe(3);
  });

  it('needs the certificate and key with tls', () => {
    const issues = issuesOf('    protocols:\n      http:\n        tls: { client_ca_file: /dev/null }');

    expect(issues.map((issue) => issue.message)).toEqual(['missing required key "cert_file"', 'missing required key "key_file"']);
    expect(issues[0].path).toBe('receivers.otlp.protocols.http.tls');
  });

  it('names a TLS file that cannot be read', () => {
    const issues = issuesOf('    protocols:\n      grpc:\n        tls:\n          cert_file: /nonexistent/server.crt\n          key_file: /dev/null');

    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe('receivers.otlp.protocols.grpc.tls.cert_file');
    expect(issues[0].message).toBe('cert_file "/nonexistent/server.crt" cannot be read; check the path and its permissions');
    expect(issues[0].line).toBe(6);
  });

  it('rejects values out of range', () => {
    const issues = issuesOf('    protocols:\n      grpc:\n        max_recv_msg_size_mib: 0\n        tls: { cert_file: /dev/null, key_file: /dev/null, min_version: "1.1" }\n      http:\n        endpoint: localhost\n        logs_url_path: v1/logs');

    expect(issues.map((issue) => issue.path)).toEqual([
      'receivers.otlp.protocols.grpc.max_recv_msg_size_mib',
      'receivers.otlp.protocols.grpc.tls.min_version',
      'receivers.otlp.protocols.http.endpoint',
      'receivers.otlp.protocols.http.logs_url_path',
    ]);
    expect(issues[0].message).toBe('must be an integer between 1 and 2047, got 0');
    expect(issues[1].message).toBe('must be one of "1.2", "1.3", got "1.1"');
  });

  it('rejects two signals on one path', () => {
    const issues = issuesOf('    protocols:\n      http:\n        logs_url_path: /v1/traces');

    expect(issues.map((issue) => issue.message)).toEqual(['traces_url_path, logs_url_path and metrics_url_path must differ, got /v1/traces, /v1/traces, /v1/metrics']);
  });

  it('rejects an unknown key with a suggestion', () => {
    const issues = issuesOf('    protocols:\n      grpc:\n        max_recv_msg_size: 8');

    expect(issues[0].message).toBe('unknown key "max_recv_msg_size"; did you mean "max_recv_msg_size_mib"?');
  });
});
