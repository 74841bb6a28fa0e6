/*
 * Alert delivery benchmark: findings at a fixed rate into a webhook exporter and a PagerDuty-format
 * exporter, both posting to loopback servers in this process. It reports the latency from each
 * finding's event time to its arrival, losses, and the daemon's memory and CPU.
 *
 * Usage: npm run bench:alerts -- [--rate 1000] [--duration 30] [--drain 60] [--warmup 0] [--persistent]
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
    warmup: { type: 'string', default: '0' },
    persistent: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const DURATION_S = Number(values.duration);
const DRAIN_S = Number(values.drain);
const SPANS_PER_REQUEST = Number(values['spans-per-request']);
/** Seconds sent at the same rate before the measured run, from other addresses, left out of the results. */
const WARMUP_S = Number(values.warmup);
/** Client addresses of warm-up findings start here, past any index of the measured run. */
const WARMUP_OFFSET = 1 << 23;

/** A loopback endpoint that records, per finding key, the latency of its first arrival. */
class Sink {
  readonly latencies: number[] = [];
  /** Event times of the findings in `latencies`, in the same order. */
  readonly eventTimes: number[] = [];
  readonly seen = new Set<string>();
  duplicates = 0;
  requests = 0;
  /** Requests that carried no finding, such as PagerDuty `resolve` events. */
  other = 0;
  private server: Server | undefined;

  /** Findings with an earlier event time belong to the warm-up and are only counted. */
  measuredFrom = Number.POSITIVE_INFINITY;
  warmup = 0;

  constructor(private readonly name: string, private readonly read: (body: Record<string, any>) => { key: string; time: string } | undefined, private readonly status: number) {}

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
      const finding = this.read(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>);
      if (!finding) this.other++;
      else if (Date.parse(finding.time) < this.measuredFrom) this.warmup++;
      else if (this.seen.has(finding.key)) this.duplicates++;
      else {
        this.seen.add(finding.key);
        const eventTime = Date.parse(finding.time);
        this.eventTimes.push(eventTime);
        this.latencies.push(arrived - eventTime);
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
    max_open_alerts: 1000000
    rate_limit: { rate: 0 }${queue}
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${storage} }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [webhook, pagerduty] }
`;
}

async function startDaemon(directory: string, config: string): Promise<{ pid: number; otlp: string; admin: string; stop: () => Promise<void> }> {
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
  // The daemon must not outlive this script, also when the script fails.
  process.on('exit', () => child.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  while (!ready) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the daemon did not start:\n${lines.map((line) => JSON.stringify(line)).join('\n')}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  const endpoint = lines.find((line) => line.msg === 'OTLP/HTTP receiver listening')?.endpoint;
  if (typeof endpoint !== 'string') throw new Error('the daemon logged no OTLP endpoint');
  const admin = lines.find((line) => line.msg === 'admin endpoint listening')?.endpoint;
  return {
    pid: child.pid as number,
    otlp: endpoint,
    admin: String(admin),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sends `total` findings in requests of SPANS_PER_REQUEST spans at a fixed request rate; counts what the daemon acknowledged. */
async function sendAtRate(otlp: string, total: number, requestsPerSecond: number, firstIndex: number): Promise<{ acknowledged: number; refused: number }> {
  let sent = 0;
  let acknowledged = 0;
  let refused = 0;
  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  for (let request = 0; sent < total; request++) {
    const due = started + (request * 1000) / requestsPerSecond;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((done) => setTimeout(done, wait));
    const first = firstIndex + sent;
    const count = Math.min(SPANS_PER_REQUEST, total - sent);
    sent += count;
    const task = fetch(`http://${otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: requestBody(first, count) })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.status === 200) acknowledged += count;
        else refused += count;
      }, () => { refused += count; })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  }
  await Promise.all(inFlight);
  return { acknowledged, refused };
}

async function main(): Promise<void> {
  const webhookSink = new Sink('hook', (body) => ({ key: body.actor.address, time: body.time }), 200);
  const pagerDutySink = new Sink('v2/enqueue', (body) => (body.event_action === 'trigger' ? { key: body.dedup_key, time: body.payload.timestamp } : undefined), 202);
  const directory = mkdtempSync(join(tmpdir(), 'watchpost-bench-alerts-'));
  const daemon = await startDaemon(directory, daemonConfig(await webhookSink.start(), await pagerDutySink.start(), join(directory, 'data')));
  const total = RATE * DURATION_S;
  const requestsPerSecond = RATE / SPANS_PER_REQUEST;
  const startRss = rssMiB(daemon.pid);
  let peakRss = startRss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, rssMiB(daemon.pid)); }, 250);

  if (WARMUP_S === 0) {
    webhookSink.measuredFrom = 0;
    pagerDutySink.measuredFrom = 0;
  } else {
    process.stderr.write(`warming up: ${RATE * WARMUP_S} findings at ${RATE}/s for ${WARMUP_S} s, not measured\n`);
    await sendAtRate(daemon.otlp, RATE * WARMUP_S, requestsPerSecond, WARMUP_OFFSET);
    await new Promise((done) => setTimeout(done, 2000));
  }
  process.stderr.write(`sending ${total} findings at ${RATE}/s for ${DURATION_S} s (${requestsPerSecond} requests/s of ${SPANS_PER_REQUEST} spans)\n`);
  const cpuBefore = cpuSeconds(daemon.pid);
  const started = Date.now();
  webhookSink.measuredFrom = started;
  pagerDutySink.measuredFrom = started;
  const { acknowledged, refused } = await sendAtRate(daemon.otlp, total, requestsPerSecond, 0);
  const sent = total;
  const sendSeconds = (Date.now() - started) / 1000;

  const drainDeadline = Date.now() + DRAIN_S * 1000;
  while ((webhookSink.seen.size < acknowledged || pagerDutySink.seen.size < acknowledged) && Date.now() < drainDeadline) {
    await new Promise((done) => setTimeout(done, 100));
  }
  clearInterval(sampler);
  const metrics = await (await fetch(`http://${daemon.admin}/metrics`)).text();
  const losses = metrics.split('\n').filter((line) => /^watchpost_(exporter_dropped|exporter_enqueue_failed|processor_dropped)_items_total\{/.test(line));
  const endRss = rssMiB(daemon.pid);
  const cpuUsed = cpuSeconds(daemon.pid) - cpuBefore;
  await daemon.stop();
  await webhookSink.stop();
  await pagerDutySink.stop();
  rmSync(directory, { recursive: true, force: true });

  const rows = [['webhook', webhookSink], ['pagerduty', pagerDutySink]] as const;
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`);
  console.log(`queue: ${values.persistent ? 'persistent (lmdb)' : 'memory'}; warm-up ${WARMUP_S} s; sent ${sent} findings in ${sendSeconds.toFixed(1)} s (${Math.round(sent / sendSeconds)}/s); acknowledged ${acknowledged}, refused ${refused}`);
  console.log('| exporter | received | lost | duplicates | other requests | p50 ms | p99 ms | max ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, sink] of rows) {
    const sorted = [...sink.latencies].sort((a, b) => a - b);
    const lost = acknowledged - sink.seen.size;
    console.log(`| ${name} | ${sink.seen.size} | ${lost} | ${sink.duplicates} | ${sink.other} | ${percentile(sorted, 0.5)} | ${percentile(sorted, 0.99)} | ${sorted.at(-1)} |`);
  }
  console.log('p99 ms by 5-second slice of the run:');
  for (const [name, sink] of rows) {
    const slices: number[][] = [];
    sink.latencies.forEach((latency, index) => {
      const slice = Math.floor((sink.eventTimes[index] - started) / 5000);
      (slices[slice] ??= []).push(latency);
    });
    console.log(`  ${name}: ${slices.map((slice) => percentile(slice.sort((a, b) => a - b), 0.99)).join(' ')}`);
  }
  if (losses.length > 0) console.log(`drops the daemon counted:\n${losses.join('\n')}`);
  console.log(`daemon RSS: ${startRss.toFixed(0)} MiB after start, peak ${peakRss.toFixed(0)} MiB, at the end ${endRss.toFixed(0)} MiB; CPU ${cpuUsed.toFixed(1)} s over the measured run and drain (${(cpuUsed / sendSeconds).toFixed(2)} cores per second of sending)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
