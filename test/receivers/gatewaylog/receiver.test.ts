import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { ConfigError, loadConfigText } from '../../../core/config/load.js';

interface LogRecord {
  body?: { stringValue?: string };
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** The log records a file exporter wrote, in order. */
function readRecords(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const records: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const request = JSON.parse(line) as { resourceLogs?: { scopeLogs?: { logRecords?: LogRecord[] }[] }[] };
    for (const resource of request.resourceLogs ?? []) for (const scope of resource.scopeLogs ?? []) records.push(...(scope.logRecords ?? []));
  }
  return records;
}

function attribute(record: LogRecord, key: string): string | number | undefined {
  const value = record.attributes?.find((item) => item.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
}

function post(endpoint: string, path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const [host, port] = [endpoint.slice(0, endpoint.lastIndexOf(':')), Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const outgoing = request({ host, port, path, method: 'POST', headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const KONG_ENTRY = {
  request: { method: 'POST', uri: '/login', headers: { 'user-agent': 'k6/0.50', host: 'api.example.com' }, size: 300 },
  response: { status: 401, size: 120 },
  latencies: { request: 12, kong: 1, proxy: 11 },
  client_ip: '203.0.113.44',
  started_at: 1726782641000,
};

function nginxLine(index: number): string {
  return `198.51.100.${index % 250} - - [10/Oct/2023:13:55:${String(index % 60).padStart(2, '0')} +0000] "GET /item/${index} HTTP/1.1" 200 ${index} "-" "curl/8.0.1"`;
}

describe('gatewaylog receiver in the daemon', () => {
  describe('push endpoint', () => {
    let daemon: Daemon;
    let endpoint: string;

    beforeAll(async () => {
      daemon = await Daemon.start(`
receivers:
  gatewaylog/kong:
    format: kong_json
    http: { endpoint: 127.0.0.1:0, path: /kong, max_request_body_size: 4096 }
exporters:
  file/logs: { path: ./logs.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [gatewaylog/kong], exporters: [file/logs] }
`);
      endpoint = daemon.endpoint('gatewaylog/kong');
    });

    afterAll(async () => {
      await daemon?.dispose();
    });

    it('takes one entry and a batched array', async () => {
      const single = await post(endpoint, '/kong', JSON.stringify(KONG_ENTRY), { 'content-type': 'application/json' });
      const batch = await post(endpoint, '/kong', JSON.stringify([KONG_ENTRY, { ...KONG_ENTRY, client_ip: '203.0.113.45' }]), { 'content-type': 'application/json; charset=utf-8' });

      expect(single.status).toBe(200);
      expect(JSON.parse(single.body)).toEqual({ accepted: 1, unparsed: 0 });
      expect(JSON.parse(batch.body)).toEqual({ accepted: 2, unparsed: 0 });
      const records = await waitFor(() => {
        const found = readRecords(daemon.path('logs.jsonl'));
        return found.length >= 3 ? found : undefined;
      }, 10_000, 'three pushed records');
      expect(records.map((record) => attribute(record, 'client.address'))).toEqual(['203.0.113.44', '203.0.113.44', '203.0.113.45']);
      expect(attribute(records[0], 'http.response.status_code')).toBe(401);
      expect(attribute(records[0], 'url.path')).toBe('/login');
    });

    it('takes a gzipped body', async () => {
      const response = await post(endpoint, '/kong', gzipSync(JSON.stringify(KONG_ENTRY)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });

      expect(response.status).toBe(200);
    });

    it('answers 400 when no entry matches the format', async () => {
      const response = await post(endpoint, '/kong', '{"hello":"world"}', { 'content-type': 'application/json' });

      expect(response.status).toBe(400);
      expect(JSON.parse(response.body).error).toBe('no entry matched the kong_json format; 1 passed on unparsed');
    });

    it('answers 413 for a body over the limit', async () => {
      const response = await post(endpoint, '/kong', JSON.stringify({ padding: 'x'.repeat(5000) }), { 'content-type': 'application/json' });

      expect(response.status).toBe(413);
    });

    it('answers 415 for another content type', async () => {
      const response = await post(endpoint, '/kong', '<xml/>', { 'content-type': 'application/xml' });

      expect(response.status).toBe(415);
      expect(JSON.parse(response.body).error).toMatch(/unsupported content type "application\/xml"/);
    });

    it('answers 404 for another path', async () => {
      const response = await post(endpoint, '/other', '{}', { 'content-type': 'application/json' });

      expect(response.status).toBe(404);
    });
  });

  describe('restart in the middle of a file', () => {
    const directory = tempDirectory('watchpost-restart-');
    let daemon: Daemon | undefined;

    afterEach(async () => {
      await daemon?.dispose();
      daemon = undefined;
    });

    afterAll(() => directory.cleanup());

    it('delivers every line exactly once across a restart', async () => {
      const config = `
receivers:
  gatewaylog:
    include: [./access.log]
    start_at: beginning
    poll_interval: 20ms
    max_batch_lines: 50
exporters:
  file/logs: { path: ./logs.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ./state }
  pipelines:
    logs: { receivers: [gatewaylog], exporters: [file/logs] }
`;
      const total = 3000;
      const all = Array.from({ length: total }, (_, index) => nginxLine(index));
      writeFileSync(join(directory.path, 'access.log'), `${all.slice(0, 1000).join('\n')}\n`);
      daemon = await Daemon.start(config, { directory: directory.path });
      await waitFor(() => readRecords(join(directory.path, 'logs.jsonl')).length > 0, 15_000, 'first records');
      appendFileSync(join(directory.path, 'access.log'), `${all.slice(1000, 2000).join('\n')}\n`);
      expect(await daemon.stop('SIGTERM')).toBe(0);

      appendFileSync(join(directory.path, 'access.log'), `${all.slice(2000).join('\n')}\n`);
      daemon = await Daemon.start(config, { directory: directory.path });
      const records = await waitFor(() => {
        const found = readRecords(join(directory.path, 'logs.jsonl'));
        return found.length >= total ? found : undefined;
      }, 20_000, 'all records');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const bodies = readRecords(join(directory.path, 'logs.jsonl')).map((record) => record.body?.stringValue);

      expect(records.length).toBeGreaterThanOrEqual(total);
      expect(bodies.length).toBe(total);
      expect(bodies).toEqual(all);
    });
  });
});

describe('gatewaylog config', () => {
  const registry = builtinRegistry();

  function errors(receiver: string): string[] {
    const text = `receivers:\n  gatewaylog:\n${receiver}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [gatewaylog], exporters: [debug] }\n`;
    try {
      loadConfigText(text, 'test.yaml', registry);
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.issues.map((issue) => `${issue.path}:${issue.line}: ${issue.message}`);
    }
  }

  it('needs files or an endpoint', () => {
    expect(errors('    format: auto')).toEqual(['receivers.gatewaylog:3: set include, http.endpoint, or both; this receiver has nothing to read']);
  });

  it('needs a log_format for the nginx format', () => {
    expect(errors('    include: [a.log]\n    format: nginx')).toEqual(['receivers.gatewaylog:3: format "nginx" needs a log_format string']);
  });

  it('rejects a log_format that cannot be split', () => {
    expect(errors('    include: [a.log]\n    format: nginx\n    log_format: "$remote_addr$status"')[0]).toMatch(/log_format:5: invalid nginx log_format: variables \$remote_addr and \$status have no text between them/);
  });

  it('rejects a trusted proxy that is not a range', () => {
    expect(errors('    include: [a.log]\n    trusted_proxies: [10.0.0.0/8, proxy.local]')[0]).toMatch(/trusted_proxies:4: trusted_proxies: "proxy.local" is not an IP address/);
  });

  it('rejects an unknown format with the known ones', () => {
    expect(errors('    include: [a.log]\n    format: iis')[0]).toMatch(/format:4: must be one of "nginx_combined", "nginx"/);
  });

  it('accepts a full configuration', () => {
    expect(errors('    include: [/var/log/nginx/*.log]\n    exclude: ["*.gz"]\n    format: auto\n    trusted_proxies: [10.0.0.0/8, "unix:"]\n    timezone: Europe/Berlin\n    http: { endpoint: 127.0.0.1:8090 }')).toEqual([]);
  });
});
