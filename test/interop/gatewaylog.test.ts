import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../helpers/daemon.js';
import { tempDirectory } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Real peers on loopback: nginx (Debian's package) writes its access and error logs and sends
 * access lines over syslog, and logrotate rotates a log by rename and by copytruncate while it is
 * written. `.ci/run` installs both (APT_PACKAGES).
 */

const NGINX = '/usr/sbin/nginx';
const LOGROTATE = '/usr/sbin/logrotate';

function requireTool(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing; install it with apt-get (see APT_PACKAGES in .ci/run)`);
}

interface LogRecord {
  body?: { stringValue?: string };
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number; arrayValue?: unknown } }[];
}

function readRecords(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const records: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const message = JSON.parse(line) as { resourceLogs?: { scopeLogs?: { logRecords?: LogRecord[] }[] }[] };
    for (const resource of message.resourceLogs ?? []) for (const scope of resource.scopeLogs ?? []) records.push(...(scope.logRecords ?? []));
  }
  return records;
}

function attribute(record: LogRecord, key: string): string | number | undefined {
  const value = record.attributes?.find((item) => item.key === key)?.value;
  if (value?.stringValue !== undefined) return value.stringValue;
  return value?.intValue === undefined ? undefined : Number(value.intValue);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, headers: { 'user-agent': 'interop-test/1.0', ...headers } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Sends raw bytes to the port and waits until the server closes the connection. */
function sendRaw(port: number, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

function daemonDirectory(parent: string): string {
  mkdirSync(join(parent, 'daemon'), { recursive: true });
  return join(parent, 'daemon');
}

const TIMED_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$http_x_forwarded_for"';

describe('nginx as a log writer', () => {
  const directory = tempDirectory('watchpost-nginx-');
  const dir = directory.path;
  let daemon: Daemon;
  let nginx: ChildProcess;
  let port: number;
  const records = () => readRecords(join(dir, 'daemon', 'logs.jsonl'));
  const from = (file: string) => records().filter((record) => attribute(record, 'log.file.path') === join(dir, file));

  beforeAll(async () => {
    requireTool(NGINX);
    chmodSync(dir, 0o755);
    for (const name of ['access.log', 'timed.log', 'error.log']) writeFileSync(join(dir, name), '');
    daemon = await Daemon.start(`
receivers:
  gatewaylog/access: { include: [${dir}/access.log], start_at: beginning, poll_interval: 50ms }
  gatewaylog/timed:
    include: [${dir}/timed.log]
    format: nginx
    log_format: '${TIMED_FORMAT}'
    start_at: beginning
    poll_interval: 50ms
  gatewaylog/errors: { include: [${dir}/error.log], format: nginx_error, start_at: beginning, poll_interval: 50ms }
  syslog: { udp: { endpoint: 127.0.0.1:0 }, access_log: { format: nginx_combined } }
processors:
  detection: {}
exporters:
  file/logs: { path: ./logs.jsonl }
  file/findings: { path: ./findings.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [gatewaylog/access, gatewaylog/timed, gatewaylog/errors, syslog], processors: [detection], exporters: [file/logs] }
    findings: { receivers: [detection], exporters: [file/findings] }
`, { directory: daemonDirectory(dir) });
    const syslogPort = daemon.endpoint('syslog').split(':').pop();

    port = await freePort();
    mkdirSync(join(dir, 'html/private'), { recursive: true });
    mkdirSync(join(dir, 'html/limited'), { recursive: true });
    for (const page of ['html/index.html', 'html/private/index.html', 'html/limited/index.html']) writeFileSync(join(dir, page), 'ok\n');
    writeFileSync(join(dir, 'htpasswd'), 'alice:{PLAIN}wonderland\n');
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', temp), { recursive: true });
    writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
error_log ${dir}/error.log info;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  client_body_temp_path ${dir}/tmp/client_body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  log_format timed '${TIMED_FORMAT}';
  limit_req_zone $binary_remote_addr zone=api:1m rate=1r/m;
  server {
    listen 127.0.0.1:${port};
    server_name _;
    root ${dir}/html;
    access_log ${dir}/access.log combined;
    access_log ${dir}/timed.log timed;
    access_log syslog:server=127.0.0.1:${syslogPort},tag=nginx combined;
    location /private/ { auth_basic "private"; auth_basic_user_file ${dir}/htpasswd; }
    location /limited/ { limit_req zone=api nodelay; }
  }
}
`);
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    await waitFor(() => get(port, '/').then(() => true, () => false), 15_000, 'nginx to listen');
  });

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await daemon?.dispose();
    directory.cleanup();
  });

  it('reads combined lines with their fields', async () => {
    expect(await get(port, '/index.html?ref=interop')).toBe(200);

    const record = await waitFor(() => from('access.log').find((item) => attribute(item, 'url.query') === 'ref=interop'), 10_000, 'the access line');
    expect(attribute(record, 'client.address')).toBe('127.0.0.1');
    expect(attribute(record, 'http.request.method')).toBe('GET');
    expect(attribute(record, 'url.path')).toBe('/index.html');
    expect(attribute(record, 'http.response.status_code')).toBe(200);
    expect(attribute(record, 'user_agent.original')).toBe('interop-test/1.0');
  });

  it('reads a custom log_format with request time', async () => {
    expect(await get(port, '/index.html?ref=timed')).toBe(200);

    const record = await waitFor(() => from('timed.log').find((item) => attribute(item, 'url.query') === 'ref=timed'), 10_000, 'the timed line');
    expect(typeof attribute(record, 'http.server.request.duration')).toBe('number');
    expect(attribute(record, 'watchpost.parse.error')).toBeUndefined();
  });

  it('blames the peer, not a spoofed X-Forwarded-For', async () => {
    expect(await get(port, '/index.html?ref=spoof', { 'x-forwarded-for': '6.6.6.6' })).toBe(200);

    const record = await waitFor(() => from('timed.log').find((item) => attribute(item, 'url.query') === 'ref=spoof'), 10_000, 'the spoofed line');
    expect(attribute(record, 'client.address')).toBe('127.0.0.1');
  });

  it('reads basic-auth failures from the error log', async () => {
    const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
    expect(await get(port, '/private/', basic('alice:guess'))).toBe(401);
    expect(await get(port, '/private/', basic('mallory:guess'))).toBe(401);

    const failures = await waitFor(() => {
      const found = from('error.log').filter((item) => attribute(item, 'nginx.error.kind') === 'auth_failure');
      return found.length >= 2 ? found : undefined;
    }, 10_000, 'two auth failures');
    expect(failures.map((item) => attribute(item, 'user.id')).sort()).toEqual(['alice', 'mallory']);
    for (const failure of failures) {
      expect(attribute(failure, 'client.address')).toBe('127.0.0.1');
      expect(attribute(failure, 'http.response.status_code')).toBe(401);
      expect(attribute(failure, 'url.path')).toBe('/private/');
      expect(attribute(failure, 'nginx.server_name')).toBe('_');
    }
  });

  it('reads limit_req rejections from the error log', async () => {
    const statuses = [await get(port, '/limited/'), await get(port, '/limited/'), await get(port, '/limited/')];

    expect(statuses).toContain(503);
    const rejection = await waitFor(() => from('error.log').find((item) => attribute(item, 'nginx.error.kind') === 'limit_req'), 10_000, 'a limit_req line');
    expect(attribute(rejection, 'nginx.limit_req.zone')).toBe('api');
    expect(attribute(rejection, 'client.address')).toBe('127.0.0.1');
  });

  it('keeps a TLS handshake sent to the HTTP port as its request line', async () => {
    await sendRaw(port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]));

    const record = await waitFor(() => from('access.log').find((item) => String(attribute(item, 'http.request.line') ?? '').startsWith('\\x16\\x03\\x01')), 10_000, 'the handshake line');
    expect(attribute(record, 'http.response.status_code')).toBe(400);
    expect(attribute(record, 'http.request.method')).toBeUndefined();
  });

  it('reads access lines that arrive over syslog', async () => {
    expect(await get(port, '/index.html?ref=syslog')).toBe(200);

    const record = await waitFor(() => records().find((item) => attribute(item, 'appname') === 'nginx' && attribute(item, 'url.query') === 'ref=syslog'), 10_000, 'the syslog line');
    expect(attribute(record, 'client.address')).toBe('127.0.0.1');
    expect(attribute(record, 'http.response.status_code')).toBe(200);
  });

  it('turns an injection in a logged request into a finding', async () => {
    expect(await get(port, "/index.html?id=1%27%20OR%20%271%27%3D%271")).toBe(200);

    const findings = await waitFor(() => {
      const path = join(dir, 'daemon', 'findings.jsonl');
      if (!existsSync(path)) return undefined;
      const found = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { rule: { id: string }; actor: { address?: string } });
      return found.some((finding) => finding.rule.id === 'sqli') ? found : undefined;
    }, 10_000, 'an sqli finding');
    expect(findings.find((finding) => finding.rule.id === 'sqli')?.actor.address).toBe('127.0.0.1');
  });
});

describe('logrotate rotating a followed log', () => {
  const directory = tempDirectory('watchpost-logrotate-');
  const dir = directory.path;
  let daemon: Daemon;

  beforeAll(async () => {
    requireTool(LOGROTATE);
    writeFileSync(join(dir, 'app.log'), '');
    daemon = await Daemon.start(`
receivers:
  gatewaylog: { include: ["${dir}/app.log*"], exclude: ["*.gz"], start_at: beginning, poll_interval: 20ms, rotate_wait: 1s }
exporters:
  file/logs: { path: ./logs.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [gatewaylog], exporters: [file/logs] }
`, { directory: daemonDirectory(dir) });
  });

  afterAll(async () => {
    await daemon?.dispose();
    directory.cleanup();
  });

  it('delivers every line once through rename and copytruncate rotations', async () => {
    const log = join(dir, 'app.log');
    const expected: string[] = [];
    let fd = openSync(log, 'a');
    let inode = statSync(log).ino;
    let written = 0;
    const burst = async (count: number) => {
      for (let i = 0; i < count; i++) {
        // A server reopens its log when the file at the path changed, as nginx does on USR1.
        if (existsSync(log) && statSync(log).ino !== inode) {
          closeSync(fd);
          fd = openSync(log, 'a');
          inode = statSync(log).ino;
        }
        const line = `192.0.2.${written % 250} - - [10/Oct/2023:13:55:36 +0000] "GET /item/${written} HTTP/1.1" 200 ${written} "-" "rotate-test"`;
        writeSync(fd, `${line}\n`);
        expected.push(line);
        written++;
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const rotate = (mode: 'create' | 'copytruncate') => {
      const config = join(dir, `${mode}.conf`);
      writeFileSync(config, `${log} {\n  rotate 10\n  ${mode}\n  missingok\n}\n`);
      execFileSync(LOGROTATE, ['-f', '-s', join(dir, 'logrotate.state'), config]);
    };

    await burst(700);
    rotate('create');
    await burst(700);
    rotate('copytruncate');
    await burst(700);
    rotate('create');
    await burst(300);
    closeSync(fd);

    const records = await waitFor(() => {
      const found = readRecords(join(dir, 'daemon', 'logs.jsonl'));
      return found.length >= expected.length ? found : undefined;
    }, 30_000, 'every line');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const bodies = readRecords(join(dir, 'daemon', 'logs.jsonl')).map((record) => record.body?.stringValue);
    expect(records.length).toBeGreaterThanOrEqual(expected.length);
    expect(bodies.length).toBe(expected.length);
    expect(new Set(bodies).size).toBe(expected.length);
    expect([...bodies].sort()).toEqual([...expected].sort());
  });
});
