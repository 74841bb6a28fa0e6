import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { ConfigError, loadConfigFile, loadConfigText } from '../../../core/config/load.js';
import { formatIssue, type ConfigIssue } from '../../../core/config/node.js';
import type { OtlpReceiverConfig } from '../../../receivers/otlp/config.js';
import type { GatewayLogConfig } from '../../../receivers/gatewaylog/config.js';

const registry = builtinRegistry();
const fixture = (name: string) => join(import.meta.dirname, '..', '..', 'fixtures', 'config', name);

function issuesOf(file: string, env: NodeJS.ProcessEnv = {}): ConfigIssue[] {
  try {
    loadConfigFile(fixture(file), registry, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error(`${file} loaded without errors`);
}

/** Returns the issues of an inline config, or none when it loads. */
function issuesOfText(text: string): ConfigIssue[] {
  try {
    loadConfigText(text, 'inline.yaml', registry, {});
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('config loading', () => {
  it('accepts a valid file and fills defaults', () => {
    const config = loadConfigFile(fixture('valid.yaml'), registry, {});
    const otlp = config.receivers.get('otlp')?.config as OtlpReceiverConfig;
    const gateway = config.receivers.get('gatewaylog/nginx')?.config as GatewayLogConfig;
    expect(otlp.protocols.http?.endpoint).toBe('127.0.0.1:4318');
    expect(gateway.start_at).toBe('end');
    expect(gateway.max_batch_lines).toBe(1000);
    expect([...config.pipelines.keys()]).toEqual(['traces', 'logs', 'findings']);
    expect(config.pipelines.get('findings')?.receivers).toEqual(['detection']);
    expect(config.service.admin.endpoint).toBe('127.0.0.1:8888');
  });

  it('reports an unknown key with a suggestion and its line', () => {
    const issues = issuesOf('bad_unknown_key.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0].code).toBe('WP_ERR_CONFIG_UNKNOWN_KEY');
    expect(issues[0].path).toBe('receivers.otlp.protocols.http.endpont');
    expect(issues[0].message).toBe('unknown key "endpont"; did you mean "endpoint"?');
    expect(issues[0].line).toBe(5);
  });

  it('reports a pipeline reference to a missing component', () => {
    const issues = issuesOf('bad_missing_reference.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0].code).toBe('WP_ERR_CONFIG_MISSING_REFERENCE');
    expect(issues[0].path).toBe('service.pipelines.traces.exporters[1]');
    expect(issues[0].message).toContain('exporter "file/missing", which is not configured; configured exporters: debug');
    expect(issues[0].line).toBe(11);
  });

  it('reports pipeline references beside other service errors', () => {
    const text = [
      'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:4318 } } } }',
      'exporters: { debug: {} }',
      'service:',
      '  pipelines:',
      '    traces: { receivers: [otlp, nothere], exporters: [debug] }',
      '  bogus: 1',
    ].join('\n');
    const issues = issuesOfText(text);
    expect(issues.map((issue) => [issue.code, issue.path, issue.line])).toEqual([
      ['WP_ERR_CONFIG_MISSING_REFERENCE', 'service.pipelines.traces.receivers[1]', 5],
      ['WP_ERR_CONFIG_UNKNOWN_KEY', 'service.bogus', 6],
    ]);
  });

  it('reports the signal of a component that has errors of its own', () => {
    const text = [
      'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:4318 } } } }',
      'exporters:',
      '  slack: { webhook_url: "https://hooks.example.test/x", colour: red }',
      'service:',
      '  pipelines:',
      '    traces: { receivers: [otlp], exporters: [slack] }',
    ].join('\n');
    const issues = issuesOfText(text);
    expect(issues.map((issue) => [issue.code, issue.path, issue.line])).toEqual([
      ['WP_ERR_CONFIG_UNKNOWN_KEY', 'exporters.slack.colour', 3],
      ['WP_ERR_CONFIG_INVALID_VALUE', 'service.pipelines.traces.exporters[0]', 6],
    ]);
    expect(issues[1].message).toBe('exporter "slack" does not support traces; it supports findings');
  });

  it('reports a malformed component id', () => {
    const issues = issuesOf('bad_id.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0].code).toBe('WP_ERR_CONFIG_BAD_ID');
    expect(issues[0].message).toContain('invalid receiver id "Otlp/Second"');
    expect(issues[0].line).toBe(5);
  });

  it('reports wrong types on their own lines', () => {
    const issues = issuesOf('bad_wrong_type.yaml');
    expect(issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['receivers.gatewaylog.include', 3],
      ['receivers.gatewaylog.max_batch_lines', 4],
    ]);
    expect(issues[0].message).toBe('must be a list of string values, got "./access.log"');
    expect(issues[1].message).toBe('must be an integer between 1 and 100000, got "lots"');
  });

  it('reports an unset variable without a default once', () => {
    const issues = issuesOf('bad_env_default.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0].code).toBe('WP_ERR_CONFIG_ENV');
    expect(issues[0].message).toContain('environment variable WP_TEST_UNSET_VARIABLE is not set');
    expect(issues[0].line).toBe(5);
  });

  it('reports out-of-range values', () => {
    const issues = issuesOf('bad_out_of_range.yaml');
    expect(issues.map((issue) => issue.path)).toEqual(['receivers.otlp.protocols.http.endpoint', 'service.worker_pool.threads']);
    expect(issues[1].message).toBe('must be an integer between 0 and 256, got -1');
    expect(issues[1].line).toBe(10);
  });

  it('reports every error of a file at once', () => {
    const issues = issuesOf('bad_many.yaml');
    expect(issues.map((issue) => issue.code)).toEqual([
      'WP_ERR_CONFIG_UNKNOWN_KEY',
      'WP_ERR_CONFIG_BAD_ID',
      'WP_ERR_CONFIG_MISSING_KEY',
      'WP_ERR_CONFIG_MISSING_REFERENCE',
    ]);
    expect(issues[3].message).toContain('receiver "syslog"');
  });

  it('reports a findings source that runs in no pipeline', () => {
    const issues = issuesOf('bad_findings_source.yaml');
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe('pipeline "findings" takes findings from "detection", but no pipeline runs "detection" as a processor');
  });

  it('reports an unclosed flow sequence where it opens', () => {
    const issues = issuesOf('bad_yaml.yaml');
    expect(issues[0].code).toBe('WP_ERR_CONFIG_READ');
    expect(issues[0].line).toBe(3);
    expect(issues[0].message).toContain('starts at line 3, column 16');
  });

  it('formats a YAML error without an empty path', () => {
    const issues = issuesOf('bad_yaml.yaml');
    expect(formatIssue(issues[0])).toMatch(/^invalid YAML: /);
    expect(formatIssue(issues[0])).toContain(`(${fixture('bad_yaml.yaml')}:3)`);
  });

  it('reports a missing file', () => {
    expect(() => loadConfigFile(fixture('no-such-file.yaml'), registry)).toThrow(/cannot read the config file/);
  });
});

describe('environment expansion', () => {
  const base = (endpoint: string, path = './findings.jsonl') => `
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${endpoint}
exporters:
  file:
    path: ${path}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
`;
  const endpointOf = (text: string, env: NodeJS.ProcessEnv) =>
    (loadConfigText(text, 'inline.yaml', registry, env).receivers.get('otlp')?.config as OtlpReceiverConfig).protocols.http?.endpoint;

  it('uses the variable when it is set', () => {
    expect(endpointOf(base('${env:ENDPOINT}'), { ENDPOINT: '127.0.0.1:9999' })).toBe('127.0.0.1:9999');
  });

  it('uses the default only when the variable is unset', () => {
    expect(endpointOf(base('${env:ENDPOINT:-127.0.0.1:4000}'), {})).toBe('127.0.0.1:4000');
    expect(endpointOf(base('${env:ENDPOINT:-127.0.0.1:4000}'), { ENDPOINT: '127.0.0.1:5000' })).toBe('127.0.0.1:5000');
  });

  it('keeps a set but empty variable empty', () => {
    expect(() => endpointOf(base('"${env:ENDPOINT:-127.0.0.1:4000}"'), { ENDPOINT: '' })).toThrow(/must be a non-empty string/);
  });

  it('reads $$ as a literal dollar', () => {
    const config = loadConfigText(base('127.0.0.1:4318', './cost$$1.jsonl'), 'inline.yaml', registry, {});
    expect((config.exporters.get('file')?.config as { path: string }).path).toBe('./cost$1.jsonl');
  });

  it('keeps the text of a string field', () => {
    const config = loadConfigText(base('127.0.0.1:4318', '0123'), 'inline.yaml', registry, {});
    expect((config.exporters.get('file')?.config as { path: string }).path).toBe('0123');
  });

  it('keeps the text of an expanded string field', () => {
    const config = loadConfigText(base('127.0.0.1:4318', '${env:FILE_PATH}'), 'inline.yaml', registry, { FILE_PATH: '0123' });
    expect((config.exporters.get('file')?.config as { path: string }).path).toBe('0123');
  });

  it('types an expanded number field', () => {
    const text = `
receivers:
  gatewaylog:
    include: [./a.log]
    max_batch_lines: \${env:BATCH}
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [gatewaylog], exporters: [debug] }
`;
    const config = loadConfigText(text, 'inline.yaml', registry, { BATCH: '250' });
    expect((config.receivers.get('gatewaylog')?.config as GatewayLogConfig).max_batch_lines).toBe(250);
  });
});
