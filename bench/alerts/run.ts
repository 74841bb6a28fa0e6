/*
 * Alert delivery benchmark: findings at a fixed rate into a webhook exporter and a PagerDuty-format
 * exporter, both posting to loopback servers in this process; reports the latency from each
 * finding's event time to its arrival, losses, and the daemon's memory and CPU.
 *
 * Usage: npm run bench:alerts -- [--rate 1000] [--duration 30] [--drain 60] [--persistent]
 *
 * The load generator sends OTLP/JSON requests of server spans, each span carrying SQL injection
 * from its own client address, so the default rule pack raises exactly one finding per span. The
 * span's start time is the moment the request is built, so "event time to arrival" is an upper
 * bound on the time from detection to arrival that also includes the request to the daemon.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'core', 'cli', 'main.js');

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    drain: { type: 'string', default: '60' },
    'spans-per-request': { type: 'string', default: '10' },
    persistent: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const DRAIN_S = Number(values.drain);
const SPANS_PER_REQUEST = Number(values['spans-per-request']);

/** A loopback endpoint that records, per finding key, the latency of its first arrival. */
class Sink {
  readonly latencies: number[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
  requests = 0;
  private server: Server | undefined;

  constructor(private readonly name: string, private readonly read: (body: Record<string, any>) => { key: string; time: string }, private readonly status: number) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => this.handle(request, response));
    this.server.keepAliveTimeout = 65_000;
    await new Promise<void>((done) => this.server?.listen(0, '127.0.0.1', done));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${this.name}`;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((done) => (this.server ? this.server.close(() => done()) : done()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const arrived = Date.now();
      this.requests++;
      const { key, time } = this.read(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>);
      if (this.seen.has(key)) this.duplicates++;
      else {
        this.seen.add(key);
        this.latencies.push(arrived - Date.parse(time));
      }
      response.writeHead(this.status, { 'content-type': 'application/json' }).end(this.status === 202 ? '{"status":"success","message":"Event processed"}' : '');
    });
  }
}

function attackerAddress(index: number): string {
  return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

function requestBody(firstIndex: number, count: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = [];
  for (let i = 0; i < count; i++) {
    const index = firstIndex + i;
    spans.push({
      traceId: (index + 1).toString(16).padStart(32, '0'),
      spanId: (index + 1).toString(16).padStart(16, '0'),
      name: 'GET /products',
      kind: 2,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 2_000_000n),
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'url.path', value: { stringValue: '/products' } },
        { key: 'url.query', value: { stringValue: "id=1' OR '1'='1" } },
        { key: 'client.address', value: { stringValue: attackerAddress(index) } },
        { key: 'http.response.status_code', value: { intValue: '200' } },
      ],
    });
  }
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop-api' } }] }, scopeSpans: [{ spans }] }] });
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Resident memory of a process in MiB, from /proc. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

/** User plus system CPU seconds of a process and its threads, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function daemonConfig(webhook: string, pagerduty: string, storage: string): string {
  const queue = values.persistent ? '\n    sending_queue: { storage: lmdb }' : '';
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  detection: {}
exporters:
  debug: { verbosity: basic }
  webhook:
    endpoint: ${webhook}${queue}
  pagerduty:
    endpoint: ${pagerduty}
    routing_key: benchbenchbenchbenchbenchbench00
    min_severity: info
    rate_limit: { rate: 0 }${queue}
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${storage} }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [webhook, pagerduty] }
`;
}

async function startDaemon(directory: string, config: string): Promise<{ pid: number; otlp: string; stop: () => Promise<void> }> {
  writeFileSync(join(directory, 'config.yaml'), config);
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(directory, 'config.yaml')], { cwd: directory, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  let ready = false;
  child.stdout.on('data', (chunk: Buffer) => {
    // Only the start-up lines matter; later ones (the debug exporter's batch counts) are read and dropped.
    if (ready) return;
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ msg: part });
      }
    }
    ready = lines.some((line) => line.msg === 'ready');
  });
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const deadline = Date.now() + 30_000;
  while (!ready) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the daemon did not start:\n${lines.map((line) => JSON.stringify(line)).join('\n')}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const endpoint = lines.find((line) => line.msg === 'OTLP/HTTP receiver listening')?.endpoint;
  if (typeof endpoint !== 'string') throw new Error('the daemon logged no OTLP endpoint');
  return {
    pid: child.pid as number,
    otlp: endpoint,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function main(): Promise<void> {
  const webhookSink = new Sink('hook', (body) => ({ key: body.actor.address, time: body.time }), 200);
  const pagerDutySink = new Sink('v2/enqueue', (body) => ({ key: body.dedup_key, time: body.payload.timestamp }), 202);
  const directory = mkdtempSync(join(tmpdir(), 'watchpost-bench-alerts-'));
  const daemon = await startDaemon(directory, daemonConfig(await webhookSink.start(), await pagerDutySink.start(), join(directory, 'data')));
  const total = RATE * DURATION_S;
  const requestsPerSecond = RATE / SPANS_PER_REQUEST;
  let sent = 0;
  let acknowledged = 0;
  let refused = 0;
  let peakRss = rssMiB(daemon.pid);
  const cpuBefore = cpuSeconds(daemon.pid);
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMiB(daemon.pid)); }, 250);

  process.stderr.write(`sending ${total} findings at ${RATE}/s for ${DURATION_S} s (${requestsPerSecond} requests/s of ${SPANS_PER_REQUEST} spans)\n`);
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (let request = 0; sent < total; request++) {
    const due = started + (request * 1000) / requestsPerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    const first = sent;
    const count = Math.min(SPANS_PER_REQUEST, total - sent);
    sent += count;
    const task = fetch(`http://${daemon.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: requestBody(first, count) })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.status === 200) acknowledged += count;
        else refused += count;
      }, () => { refused += count; })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  const sendSeconds = (Date.now() - started) / 1000;

  const drainDeadline = Date.now() + DRAIN_S * 1000;
  while ((webhookSink.seen.size < acknowledged || pagerDutySink.seen.size < acknowledged) && Date.now() < drainDeadline) {
    await new Promise((done) => setTimeout(done, 100));
  }
  clearInterval(sampler);
  const endRss = rssMiB(daemon.pid);
  const cpuUsed = cpuSeconds(daemon.pid) - cpuBefore;
  await daemon.stop();
  await webhookSink.stop();
  await pagerDutySink.stop();
  rmSync(directory, { recursive: true, force: true });

  const rows = [['webhook', webhookSink], ['pagerduty', pagerDutySink]] as const;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log(`queue: ${values.persistent ? 'persistent (lmdb)' : 'memory'}; sent ${sent} findings in ${sendSeconds.toFixed(1)} s (${Math.round(sent / sendSeconds)}/s); acknowledged ${acknowledged}, refused ${refused}`);
  console.log('| exporter | received | lost | duplicates | requests | p50 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, sink] of rows) {
    const sorted = [...sink.latencies].sort((a, b) => a - b);
    const lost = acknowledged - sink.seen.size;
    console.log(`| ${name} | ${sink.seen.size} | ${lost} | ${sink.duplicates} | ${sink.requests} | ${percentile(sorted, 0.5)} | ${percentile(sorted, 0.99)} | ${sorted.at(-1)} |`);
  }
  console.log(`daemon RSS: peak ${peakRss.toFixed(0)} MiB, at the end ${endRss.toFixed(0)} MiB; CPU ${cpuUsed.toFixed(1)} s over the run (${(cpuUsed / sendSeconds).toFixed(2)} cores while sending)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
