import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';

/*
 * nginx with ModSecurity v3 and the OWASP Core Rule Set 3.3.4 from Debian's packages (`nginx`,
 * `libnginx-mod-http-modsecurity`, `modsecurity-crs`), run on 127.0.0.1 in DetectionOnly mode
 * at the package's paranoia level 1 and anomaly threshold 5. Each request carries an
 * `X-Replay-Id` header, and its verdict is read back from ModSecurity's JSON audit log.
 *
 * A request counts as detected when rule 949110 (inbound anomaly score exceeded) or 980130 fired,
 * or when the logged anomaly score is 5 or more, the criterion the peer benchmarks use.
 */

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const CRS_RULES = '/usr/share/modsecurity-crs/rules';
const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';
const MODSECURITY_CONF = ['/usr/share/nginx/docs/modsecurity/modsecurity.conf', '/etc/nginx/modsecurity.conf'];
const UNICODE_MAPPING = ['/usr/share/nginx/docs/modsecurity/unicode.mapping', '/etc/nginx/unicode.mapping'];
const NGINX = ['/usr/sbin/nginx'];

export interface CrsRequest {
  id: string;
  method: string;
  /** The request target, sent byte for byte; see `requestTarget`. */
  target: string;
  userAgent?: string;
  headers: Record<string, string>;
}

export interface CrsVerdict {
  detected: boolean;
  /** The inbound anomaly score ModSecurity logged, when it logged the request. */
  score?: number;
  ruleIds: string[];
  /** The HTTP status, or the socket error when the request failed. */
  status: number | string;
}

/** Returns why the ModSecurity comparison cannot run here, or undefined when it can. */
export function crsUnavailable(): string | undefined {
  const missing = [MODULE, CRS_RULES, CRS_SETUP].filter((path) => !existsSync(path));
  if (!NGINX.some((path) => existsSync(path))) missing.push('nginx');
  if (!MODSECURITY_CONF.some((path) => existsSync(path))) missing.push('modsecurity.conf');
  if (missing.length === 0) return undefined;
  return `missing ${missing.join(', ')}; install the Debian packages nginx, libnginx-mod-http-modsecurity and modsecurity-crs`;
}

/** The installed CRS version, read from the package's setup file. */
export function crsVersion(): string {
  const match = /crs_setup_version=(\d+)/.exec(readFileSync(CRS_SETUP, 'utf8'));
  if (!match) return 'unknown';
  const digits = match[1];
  return `${digits[0]}.${digits[1]}.${digits.slice(2)}`;
}

/**
 * Percent-encodes the bytes nginx refuses in a request line (space, control characters), so a
 * target reaches the rules instead of a 400 from nginx. Both sides of the comparison judge the
 * encoded target, which servers decode back to the same text.
 */
export function requestTarget(uri: string): string {
  let output = '';
  for (const char of uri) {
    const code = char.codePointAt(0) as number;
    output += code <= 0x20 || code === 0x7f ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : char;
  }
  return output.startsWith('/') ? output : `/${output}`;
}

function firstExisting(paths: string[]): string {
  const found = paths.find((path) => existsSync(path));
  if (!found) throw new Error(`none of ${paths.join(', ')} exists`);
  return found;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Debian's recommended modsecurity.conf in DetectionOnly mode, with a JSON audit log and paths under `directory`. */
function modsecurityConf(directory: string): string {
  const settings: Record<string, string> = {
    SecRuleEngine: 'DetectionOnly',
    SecAuditLog: join(directory, 'audit.log'),
    SecTmpDir: join(directory, 'tmp'),
    SecDataDir: join(directory, 'tmp'),
    SecStatusEngine: 'Off',
  };
  const lines = readFileSync(firstExisting(MODSECURITY_CONF), 'utf8').split('\n').map((line) => {
    const directive = line.split(/\s+/)[0];
    return Object.hasOwn(settings, directive) ? `${directive} ${settings[directive]}` : line;
  });
  for (const directive of Object.keys(settings)) {
    if (!lines.some((line) => line.startsWith(`${directive} `))) throw new Error(`modsecurity.conf has no ${directive} line to change`);
  }
  lines.push('SecAuditLogFormat JSON');
  return lines.join('\n');
}

function nginxConf(directory: string, port: number): string {
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `load_module ${MODULE};
${user}
daemon off;
worker_processes 1;
pid ${join(directory, 'nginx.pid')};
error_log ${join(directory, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${join(directory, 'tmp')};
  proxy_temp_path ${join(directory, 'tmp')};
  fastcgi_temp_path ${join(directory, 'tmp')};
  uwsgi_temp_path ${join(directory, 'tmp')};
  scgi_temp_path ${join(directory, 'tmp')};
  server {
    listen 127.0.0.1:${port};
    server_name shop.example.com;
    root ${join(directory, 'html')};
    modsecurity on;
    modsecurity_rules_file ${join(directory, 'main.conf')};
    location / { try_files $uri $uri/ /index.html; }
  }
}
`;
}

/** nginx + ModSecurity + CRS as a child process in a temporary directory. */
export class CrsServer {
  private constructor(private readonly directory: string, private readonly child: ChildProcess, readonly port: number) {}

  static async start(): Promise<CrsServer> {
    const problem = crsUnavailable();
    if (problem) throw new Error(problem);
    const directory = mkdtempSync(join(tmpdir(), 'watchpost-crs-'));
    mkdirSync(join(directory, 'tmp'));
    mkdirSync(join(directory, 'html'));
    writeFileSync(join(directory, 'html', 'index.html'), '<!doctype html><title>shop</title><p>shop</p>\n');
    copyFileSync(firstExisting(UNICODE_MAPPING), join(directory, 'unicode.mapping'));
    copyFileSync(CRS_SETUP, join(directory, 'crs-setup.conf'));
    writeFileSync(join(directory, 'modsecurity.conf'), modsecurityConf(directory));
    const rules = readdirSync(CRS_RULES).filter((name) => name.endsWith('.conf')).sort().map((name) => `Include ${join(CRS_RULES, name)}`);
    writeFileSync(join(directory, 'main.conf'), [`Include ${join(directory, 'modsecurity.conf')}`, `Include ${join(directory, 'crs-setup.conf')}`, ...rules, ''].join('\n'));
    const port = await freePort();
    writeFileSync(join(directory, 'nginx.conf'), nginxConf(directory, port));

    const child = spawn(firstExisting(NGINX), ['-p', directory, '-c', join(directory, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const server = new CrsServer(directory, child, port);
    const deadline = Date.now() + 30_000;
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        const log = existsSync(join(directory, 'error.log')) ? readFileSync(join(directory, 'error.log'), 'utf8') : '';
        await server.stop();
        throw new Error(`nginx did not start listening on 127.0.0.1:${port}: ${stderr}${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return server;
  }

  /** Sends the requests one at a time and returns each one's verdict by id. */
  async judge(requests: CrsRequest[]): Promise<Map<string, CrsVerdict>> {
    const statuses = new Map<string, number | string>();
    for (const request of requests) statuses.set(request.id, await send(this.port, request));
    // ModSecurity writes an audit record when the transaction ends; give the last ones a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const audit = readAudit(join(this.directory, 'audit.log'));
    const verdicts = new Map<string, CrsVerdict>();
    for (const request of requests) {
      const entry = audit.get(request.id);
      const ruleIds = entry?.ruleIds ?? [];
      const detected = ruleIds.includes('949110') || ruleIds.includes('980130') || (entry?.score ?? 0) >= 5;
      verdicts.set(request.id, { detected, score: entry?.score, ruleIds, status: statuses.get(request.id) ?? 'not sent' });
    }
    return verdicts;
  }

  /** Stops nginx by its process id and removes the temporary directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Sends one request on its own connection, exactly as given, and returns the status code. */
function send(port: number, request: CrsRequest): Promise<number | string> {
  const headers: Record<string, string> = {
    Host: 'shop.example.com',
    Accept: 'text/html,*/*',
    'Accept-Language': 'en',
    'X-Replay-Id': request.id,
    Connection: 'close',
  };
  if (request.userAgent) headers['User-Agent'] = request.userAgent;
  if (request.method === 'POST' || request.method === 'PUT') {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    headers['Content-Length'] = '0';
  }
  for (const [name, value] of Object.entries(request.headers)) headers[name] = value;
  const head = `${request.method} ${request.target} HTTP/1.1\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, ' ')}`).join('\r\n')}\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let response = '';
    const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, 10_000);
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(Buffer.from(head, 'utf8')));
    socket.on('data', (chunk: string) => { response += chunk; });
    socket.on('error', (error: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(error.code ?? error.message); });
    socket.on('close', () => {
      clearTimeout(timer);
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve(match ? Number(match[1]) : 'no response');
    });
  });
}

interface AuditEntry {
  ruleIds: string[];
  score?: number;
}

/** Reads the JSON audit log: rule ids and anomaly score per `X-Replay-Id`. */
function readAudit(path: string): Map<string, AuditEntry> {
  const entries = new Map<string, AuditEntry>();
  if (!existsSync(path)) return entries;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let record: { transaction?: { request?: { headers?: Record<string, string> }; messages?: { message?: string; details?: { ruleId?: string; data?: string } }[] } };
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    const transaction = record.transaction ?? {};
    const headers = transaction.request?.headers ?? {};
    const id = headers['X-Replay-Id'] ?? headers['x-replay-id'];
    if (!id) continue;
    const entry: AuditEntry = { ruleIds: [] };
    for (const message of transaction.messages ?? []) {
      if (message.details?.ruleId) entry.ruleIds.push(message.details.ruleId);
      const score = /Total (?:Inbound )?Score: (\d+)/.exec(`${message.message ?? ''} ${message.details?.data ?? ''}`);
      if (score) entry.score = Math.max(entry.score ?? 0, Number(score[1]));
    }
    entries.set(id, entry);
  }
  return entries;
}
