import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/cli/builtins.js';
import { replay, Progress } from '../../core/cli/replay.js';
import { parseFiles } from '../../core/cli/parse.js';
import { loadConfigText } from '../../core/config/load.js';
import type { Finding } from '../../core/data/finding.js';
import { Daemon, runCli } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { tempDirectory } from '../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'gateway');
const registry = builtinRegistry();

/** A stream that keeps what is written, optionally posing as a terminal. */
class Capture extends Writable {
  text = '';
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString('utf8');
    callback();
  }
}

/** One fixture file per format, as `replay --format` reads it. */
const FORMAT_FILES: [string, string][] = [
  ['nginx_combined', 'crowdsec/crowdsec_nginx-http-malformed.log'],
  ['nginx_error', 'vrl/vrl_parse_nginx_log.log'],
  ['apache_common', 'vrl/vrl_parse_common_log.log'],
  ['apache_combined', 'crowdsec/crowdsec_apache2-malformed.log'],
  ['apache_error', 'crowdsec/crowdsec_apache2-logs.log'],
  ['envoy', 'crowdsec/crowdsec_envoy-logs.log'],
  ['envoy_json', 'crowdsec/crowdsec_envoy-logs.log'],
  ['kong_json', 'kong/kong_file-log.ndjson'],
  ['traefik_json', 'crowdsec/crowdsec_traefik_json.log'],
  ['traefik_clf', 'crowdsec/crowdsec_traefik_clf.log'],
  ['haproxy_http', 'haproxy/haproxy_httplog.log'],
  ['aws_alb', 'crowdsec/crowdsec_aws-alb-logs.log'],
  ['aws_cloudfront', 'crowdsec/crowdsec_aws-cloudfront-logs.log'],
  ['aws_apigateway_json', 'aws_apigw/apigw_json.ndjson'],
  ['caddy_json', 'crowdsec/crowdsec_caddy-logs.log'],
  ['litespeed_error', 'crowdsec/crowdsec_litespeed-logs.log'],
  ['json', 'crowdsec/crowdsec_fastly-logs.log'],
  ['auto', 'edgecases/constructed_access_edgecases.log'],
];

function lineCount(file: string): number {
  return readFileSync(join(FIXTURES, file), 'utf8').split('\n').filter(Boolean).length;
}

function time(minute: number, second: number): string {
  return `01/Jun/2024:10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')} +0000`;
}

/** Ten minutes of traffic: browsing, a login brute force, 404 probing, SQL injection and a scanner. */
function attackLog(): string[] {
  const lines: [number, string][] = [];
  const add = (seconds: number, address: string, request: string, status: number, agent = 'Mozilla/5.0') => {
    lines.push([seconds, `${address} - - [${time(Math.floor(seconds / 60), seconds % 60)}] "${request} HTTP/1.1" ${status} 120 "-" "${agent}"`]);
  };
  for (let i = 0; i < 300; i++) add(i * 2, `198.51.100.${i % 30}`, `GET /products/${i % 40}`, 200);
  for (let i = 0; i < 12; i++) add(60 + i * 10, '203.0.113.10', 'POST /login', 401);
  for (let i = 0; i < 20; i++) add(200 + i * 2, '203.0.113.20', `GET /admin${i}.php`, 404);
  add(300, '203.0.113.30', "GET /products?id=1%27%20OR%20%271%27%3D%271", 200);
  add(400, '203.0.113.40', 'GET /', 200, 'sqlmap/1.7.2#stable (https://sqlmap.org)');
  return lines.sort((a, b) => a[0] - b[0]).map(([, line]) => line);
}

function key(finding: Finding): string {
  return `${finding.rule.id} ${finding.actor.address}`;
}

describe('watchpost replay', () => {
  const directory = tempDirectory();
  afterAll(() => directory.cleanup());

  for (const [format, file] of FORMAT_FILES) {
    it(`reads ${format} files`, async () => {
      const status = new Capture();

      const summary = await replay({ format, files: [join(FIXTURES, file)], registry, output: new Capture(), status, threads: 1 });

      expect(summary.lines).toBe(lineCount(file));
      expect(summary.parsed + summary.failed).toBe(summary.lines);
      expect(summary.parsed).toBeGreaterThan(0);
    });
  }

  it('reports findings per rule', async () => {
    const file = join(directory.path, 'attacks.log');
    writeFileSync(file, `${attackLog().join('\n')}\n`);
    const output = new Capture();

    const summary = await replay({ format: 'nginx_combined', files: [file], registry, output, status: new Capture(), threads: 1 });

    const findings = output.text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding);
    expect(summary.findings).toEqual({ 'login-brute-force': 1, 'not-found-probing': 1, sqli: 1, 'scanner-user-agent': 1 });
    expect(new Set(findings.filter((finding) => finding.status === 'new').map(key))).toEqual(new Set([
      'login-brute-force 203.0.113.10', 'not-found-probing 203.0.113.20', 'sqli 203.0.113.30', 'scanner-user-agent 203.0.113.40',
    ]));
  });

  it('draws a progress bar on a terminal', async () => {
    const status = new Capture(true);
    const progress = new Progress(status, 1000);

    progress.advance(500);
    progress.update(123);
    progress.done();

    expect(status.text).toContain('\r[###############               ]  50% 0 lines');
    expect(status.text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('stays quiet when not on a terminal', async () => {
    const status = new Capture(false);
    const progress = new Progress(status, 1000);

    progress.advance(500);
    progress.done();

    expect(status.text).toBe('');
  });

  it('uses a configured receiver and the pipeline processors', async () => {
    const file = join(directory.path, 'custom.log');
    writeFileSync(file, attackLog().map((line) => line.replace(/ "-" "/, ' "')).join('\n'));
    const config = loadConfigText(`
receivers:
  gatewaylog/edge:
    include: [${file}]
    format: nginx
    log_format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_user_agent"'
processors:
  detection: { disable: [not-found-probing] }
exporters:
  debug: {}
service:
  pipelines:
    logs: { receivers: [gatewaylog/edge], processors: [detection], exporters: [debug] }
`, 'replay.yaml', registry);

    const summary = await replay({ receiver: 'gatewaylog/edge', config, files: [file], registry, output: new Capture(), status: new Capture(), threads: 1 });

    expect(summary.failed).toBe(0);
    expect(summary.findings['not-found-probing']).toBeUndefined();
    expect(summary.findings['login-brute-force']).toBe(1);
  });

  it('names the known formats for an unknown one', async () => {
    await expect(replay({ format: 'w3c', files: [], registry, output: new Capture(), status: new Capture() })).rejects.toThrow(/unknown format "w3c"; known formats: .*aws_alb/);
  });

  it('prints the summary from the command line', async () => {
    const file = join(directory.path, 'cli.log');
    writeFileSync(file, `${attackLog().join('\n')}\n`);

    const result = await runCli(['replay', '--format', 'nginx_combined', '--threads', '1', file]);

    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^lines read: 334, parsed: 334, failed: 0, in [\d.]+ s/m);
    expect(result.stderr).toMatch(/^new findings: 4$/m);
    expect(result.stderr).toMatch(/^ {2}login-brute-force +1$/m);
    expect(result.stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
  });
});

describe('replay against live traffic', () => {
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.dispose();
  });

  it('gives the findings the daemon gives', async () => {
    const log = `${attackLog().join('\n')}\n`;
    daemon = await Daemon.start(`
receivers:
  gatewaylog:
    include: [./access.log]
    start_at: beginning
    poll_interval: 20ms
    max_batch_lines: 37
processors:
  detection: {}
exporters:
  file/findings: { path: ./findings.jsonl }
  debug: { verbosity: basic }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [gatewaylog], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [file/findings] }
`, { files: { 'access.log': log } });
    const live = await waitFor(() => {
      const path = daemon?.path('findings.jsonl') as string;
      if (!existsSync(path)) return undefined;
      const found = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding).filter((finding) => finding.status === 'new');
      return found.length >= 4 ? found : undefined;
    }, 20_000, 'live findings');
    await daemon.stop();

    const output = new Capture();
    await replay({ format: 'nginx_combined', files: [daemon.path('access.log')], registry, output, status: new Capture(), threads: 1 });
    const replayed = output.text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding).filter((finding) => finding.status === 'new');

    expect(new Set(replayed.map(key))).toEqual(new Set(live.map(key)));
    expect(replayed.map((finding) => finding.first_seen).sort()).toEqual(live.map((finding) => finding.first_seen).sort());
  });
});

describe('watchpost parse', () => {
  for (const [format, file] of FORMAT_FILES) {
    it(`prints a record per ${format} line`, async () => {
      const output = new Capture();

      const counts = await parseFiles(registry, { format }, [join(FIXTURES, file)], output);

      const records = output.text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { body: { stringValue: string } });
      expect(records.length).toBe(lineCount(file));
      expect(counts.records).toBe(records.length);
      expect(records[0].body.stringValue).toBe(readFileSync(join(FIXTURES, file), 'utf8').split('\n')[0]);
    });
  }

  it('takes format options on the command line and reads standard input', async () => {
    const result = await runCli(['parse', '--format', 'nginx', '--option', 'log_format=$remote_addr "$request" $status', '--option', 'trusted_proxies=10.0.0.0/8', '-'], { input: '10.0.0.1 "GET /a HTTP/1.1" 204\n' });

    expect(result.code).toBe(0);
    const record = JSON.parse(result.stdout) as { attributes: { key: string; value: { stringValue?: string } }[] };
    expect(record.attributes.find((attribute) => attribute.key === 'url.path')?.value.stringValue).toBe('/a');
    expect(result.stderr).toBe('1 record(s), 0 not parsed\n');
  });

  it('rejects an unknown option', async () => {
    const result = await runCli(['parse', '--format', 'nginx_combined', '--option', 'colour=red', '-']);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('watchpost: unknown format option "colour"; known options: log_format, trusted_proxies, timezone\n');
  });
});
