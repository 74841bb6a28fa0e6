import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/daemon.js';
import { tempDirectory } from '../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const configDirectory = tempDirectory();
afterAll(() => configDirectory.cleanup());

/** Writes a config whose detection processor reads the given OpenAPI document, and returns the config's path. */
function detectionConfig(openapi: string): string {
  const file = join(configDirectory.path, 'detection.yaml');
  writeFileSync(file, `receivers:
  gatewaylog:
    include: [${join(configDirectory.path, 'access.log')}]
    format: nginx_combined
processors:
  detection:
    openapi: ${openapi}
    state: { persist: false }
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [gatewaylog], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [debug] }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(configDirectory.path, 'storage')} }
`);
  return file;
}

describe('watchpost validate', () => {
  it('exits 0 for a valid config', async () => {
    const result = await runCli(['validate', '--config', join(FIXTURES, 'config', 'valid.yaml')]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid (3 pipeline(s))');
  });

  it('lists every error and exits 1', async () => {
    const result = await runCli(['validate', '--config', join(FIXTURES, 'config', 'bad_many.yaml')]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('4 error(s)');
    expect(result.stderr).toContain('receivers.otlp.protocols.http.endpont: unknown key "endpont"; did you mean "endpoint"?');
    expect(result.stderr).toMatch(/bad_many\.yaml:12\)/);
  });

  it('rejects an OpenAPI document whose paths are a list', async () => {
    const openapi = join(FIXTURES, 'detection', 'openapi', 'bad_paths_list.yaml');

    const result = await runCli(['validate', '--config', detectionConfig(openapi)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('1 error(s)');
    expect(result.stderr).toContain(`processors.detection.openapi: paths: must be a map of paths such as "/pets" to path items, got a sequence (${openapi}:3)`);
  });

  it('names the OpenAPI file of a YAML error', async () => {
    const openapi = join(FIXTURES, 'detection', 'openapi', 'bad_yaml.yaml');

    const result = await runCli(['validate', '--config', detectionConfig(openapi)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('processors.detection.openapi: invalid YAML: ');
    expect(result.stderr).toContain(`(${openapi}:4)`);
  });

  it('rejects a missing --config with usage', async () => {
    const result = await runCli(['validate']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('validate needs --config FILE');
  });
});

describe('watchpost components', () => {
  it('lists the built-in components and formats', async () => {
    const result = await runCli(['components']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}otlp +traces, metrics, logs/m);
    expect(result.stdout).toMatch(/^ {2}detection +traces, logs/m);
    expect(result.stdout).toMatch(/^formats \(parse, replay\): .*nginx_combined/m);
  });
});

describe('watchpost parse', () => {
  const directory = tempDirectory();
  afterAll(() => directory.cleanup());

  it('prints one OTLP/JSON log record per line', async () => {
    const file = join(directory.path, 'access.log');
    writeFileSync(file, [
      '203.0.113.5 - alice [10/Oct/2023:13:55:36 +0000] "GET /api/orders?id=7 HTTP/1.1" 200 512 "-" "curl/8.0.1"',
      'not an access log line',
    ].join('\n'));

    const result = await runCli(['parse', '--format', 'nginx_combined', file]);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const attributes = Object.fromEntries(records[0].attributes.map((attribute: { key: string; value: Record<string, unknown> }) => [attribute.key, Object.values(attribute.value)[0]]));

    expect(result.code).toBe(0);
    expect(records).toHaveLength(2);
    expect(records[0].timeUnixNano).toBe('1696946136000000000');
    expect(attributes['http.request.method']).toBe('GET');
    expect(attributes['url.path']).toBe('/api/orders');
    expect(attributes['url.query']).toBe('id=7');
    expect(attributes['http.response.status_code']).toBe('200');
    expect(attributes['client.address']).toBe('203.0.113.5');
    expect(attributes['user.id']).toBe('alice');
    expect(records[1].body.stringValue).toBe('not an access log line');
    expect(result.stderr).toContain('2 record(s), 1 not parsed');
  });

  it('names the known formats for an unknown one', async () => {
    const result = await runCli(['parse', '--format', 'no_such_format', join(directory.path, 'access.log')]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown format "no_such_format"; known formats: .*nginx_combined/);
  });
});

describe('watchpost test-rules', () => {
  it('runs the default pack and reports passes', async () => {
    const result = await runCli(['test-rules']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}sqli: /m);
    expect(result.stdout).toMatch(/^\d+ passed, 0 failed$/m);
  });
});
