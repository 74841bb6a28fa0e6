import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SPANS_PER_BATCH } from './spans.js';

/*
 * `npm run bench:otlp`: OTLP/gRPC ingest with detection, forwarded by the otlp exporter.
 *
 * Three processes on loopback: a load generator sending pre-encoded batches of 512 spans over
 * gRPC, the daemon built in dist/ (receiver, detection in the worker pool, otlp exporter), and
 * a gRPC sink standing in for the backend. After a warm-up the script measures, over a fixed
 * window: spans delivered to the sink per second, the daemon's CPU seconds per million spans,
 * and the daemon's peak RSS (VmHWM, which includes the worker threads).
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLOCK_TICKS_PER_SECOND = 100;

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    /** Spans per export request the load generator sends. */
    'spans-per-batch': { type: 'string', default: String(SPANS_PER_BATCH) },
    threads: { type: 'string', default: '0' },
    compression: { type: 'string', default: 'none' },
    'no-detection': { type: 'boolean', default: false },
    /** A directory for V8 CPU profiles of the daemon's threads, written when it stops. */
    profile: { type: 'string' },
  },
});
const durationSeconds = Number(options.duration);
const warmupSeconds = Number(options.warmup);
const detection = !options['no-detection'];
const spansPerBatch = Number(options['spans-per-batch']);

interface ProcessCpu {
  seconds: number;
}

/** User plus system CPU time of a process and all its threads (or of one thread, given `/task/TID`), in seconds. */
function cpuSeconds(pid: number, thread = ''): number {
  const stat = readFileSync(`/proc/${pid}${thread}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: field 14 (utime) and 15 (stime) of proc(5) are at offsets 11 and 12.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Reads a field of /proc/PID/status in MiB, such as VmHWM (peak RSS) or VmRSS. */
function memoryMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

function forkTs(script: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(join(ROOT, 'bench', 'otlp', script), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

function nextMessage<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolveMessage, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolveMessage(message as T);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`${child.spawnargs.join(' ')} exited with ${code} before sending "${type}"`)));
  });
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

function daemonConfig(sink: string): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 16 }
${detection ? 'processors:\n  detection: {}\n' : ''}exporters:
  otlp:
    endpoint: ${sink}
    tls: { insecure: true }
    compression: ${options.compression}
  file/findings: { path: ./findings.jsonl }
service:
  worker_pool: { threads: ${Number(options.threads)} }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ./data }
  pipelines:
    traces: { receivers: [otlp], ${detection ? 'processors: [detection], ' : ''}exporters: [otlp] }
${detection ? '    findings: { receivers: [detection], exporters: [file/findings] }\n' : ''}`;
}

interface LogLine { msg: string; id?: string; protocol?: string; endpoint?: string; admin?: string }

async function startDaemon(directory: string): Promise<{ child: ChildProcess; grpc: string; admin: string }> {
  const profiling = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profile)}`] : [];
  const child = spawn(process.execPath, [...profiling, join(ROOT, 'dist', 'core', 'cli', 'main.js'), 'run', '--config', 'config.yaml'], { cwd: directory, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: LogLine[] = [];
  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      try {
        const line = JSON.parse(part) as LogLine & { level: number };
        lines.push(line);
        if (line.level >= 40) process.stderr.write(`daemon: ${part}\n`);
      } catch {
        process.stderr.write(`daemon: ${part}\n`);
      }
    }
  });
  const deadline = Date.now() + 30_000;
  while (!lines.some((line) => line.msg === 'ready')) {
    if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('the daemon did not start within 30 s');
    await sleep(50);
  }
  const grpc = lines.find((line) => line.msg === 'OTLP/gRPC receiver listening')?.endpoint as string;
  const admin = lines.find((line) => line.msg === 'ready')?.admin as string;
  return { child, grpc, admin };
}

async function scrape(admin: string): Promise<string> {
  return (await fetch(`http://${admin}/metrics`)).text();
}

function metricValue(text: string, pattern: RegExp): number {
  let total = 0;
  for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  return total;
}

interface LoadCounts { sentSpans: number; acceptedSpans: number; refusedCalls: number; failedCalls: number; lastError: string }

async function main(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'watchpost-bench-otlp-'));
  const children: ChildProcess[] = [];
  try {
    const sink = forkTs('sink.ts');
    children.push(sink);
    const { address: sinkAddress } = await nextMessage<{ address: string }>(sink, 'ready');
    writeFileSync(join(directory, 'config.yaml'), daemonConfig(sinkAddress));
    const daemon = await startDaemon(directory);
    children.push(daemon.child);
    const daemonPid = daemon.child.pid as number;

    const loadgen = forkTs('loadgen.ts', { LOADGEN_TARGET: daemon.grpc, LOADGEN_CONCURRENCY: options.concurrency, LOADGEN_SPANS_PER_BATCH: String(spansPerBatch) });
    children.push(loadgen);
    const { bytesPerBatch } = await nextMessage<{ bytesPerBatch: number }>(loadgen, 'ready');
    let load: LoadCounts = { sentSpans: 0, acceptedSpans: 0, refusedCalls: 0, failedCalls: 0, lastError: '' };
    loadgen.on('message', (message: { type: string; counts?: LoadCounts }) => {
      if (message.type === 'counts' && message.counts) load = message.counts;
    });
    const sinkCounts = async () => {
      sink.send({ type: 'counts' });
      return (await nextMessage<{ counts: { requests: number; bytes: number } }>(sink, 'counts')).counts;
    };

    loadgen.send({ type: 'start' });
    await sleep(warmupSeconds * 1000);

    const mainThread = `/task/${daemonPid}`;
    const start = { time: performance.now(), sink: await sinkCounts(), daemonCpu: cpuSeconds(daemonPid), mainCpu: cpuSeconds(daemonPid, mainThread), loadCpu: cpuSeconds(loadgen.pid as number), sinkCpu: cpuSeconds(sink.pid as number), load: { ...load } };
    const rssSamples: number[] = [];
    for (let second = 0; second < durationSeconds; second++) {
      await sleep(1000);
      rssSamples.push(memoryMiB(daemonPid, 'VmRSS'));
    }
    const end = { time: performance.now(), sink: await sinkCounts(), daemonCpu: cpuSeconds(daemonPid), mainCpu: cpuSeconds(daemonPid, mainThread), loadCpu: cpuSeconds(loadgen.pid as number), sinkCpu: cpuSeconds(sink.pid as number), load: { ...load } };
    const peakRssMiB = memoryMiB(daemonPid, 'VmHWM');

    loadgen.send({ type: 'stop' });
    await new Promise((resolveExit) => loadgen.once('exit', resolveExit));
    // Let the exporter drain, then compare what the daemon accepted with what reached the sink.
    let metrics = '';
    let accepted = 0;
    let delivered = 0;
    for (let attempt = 0; attempt < 100; attempt++) {
      metrics = await scrape(daemon.admin);
      accepted = metricValue(metrics, /^watchpost_receiver_accepted_items_total\{.*signal="traces"/);
      delivered = (await sinkCounts()).requests * spansPerBatch;
      if (delivered >= accepted) break;
      await sleep(100);
    }

    const seconds = (end.time - start.time) / 1000;
    const requests = end.sink.requests - start.sink.requests;
    const spans = requests * spansPerBatch;
    const offered = end.load.acceptedSpans - start.load.acceptedSpans;
    const rate = spans / seconds;
    const result = {
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      settings: { detection, compression: options.compression, concurrency: Number(options.concurrency), spans_per_batch: spansPerBatch, worker_threads: Number(options.threads) || cpus().length, warmup_s: warmupSeconds, window_s: durationSeconds, bytes_per_batch: Math.round(bytesPerBatch) },
      spans_per_second_delivered: Math.round(rate),
      requests_per_second_delivered: Math.round(requests / seconds),
      daemon_cpu_microseconds_per_request: round((end.daemonCpu - start.daemonCpu) / requests * 1e6),
      spans_per_second_accepted: Math.round(offered / seconds),
      daemon_cpu_seconds_per_million_spans: round((end.daemonCpu - start.daemonCpu) / spans * 1e6),
      daemon_cpu_cores_used: round((end.daemonCpu - start.daemonCpu) / seconds),
      daemon_main_thread_cpu_seconds_per_million_spans: round((end.mainCpu - start.mainCpu) / spans * 1e6),
      load_generator_cpu_cores_used: round((end.loadCpu - start.loadCpu) / seconds),
      sink_cpu_cores_used: round((end.sinkCpu - start.sinkCpu) / seconds),
      daemon_peak_rss_mib: Math.round(peakRssMiB),
      daemon_rss_mib_at_end_of_window: Math.round(rssSamples[rssSamples.length - 1]),
      refused_calls: end.load.refusedCalls - start.load.refusedCalls,
      failed_calls: end.load.failedCalls - start.load.failedCalls,
      last_error: end.load.lastError || undefined,
      accepted_total: accepted,
      delivered_total: delivered,
      findings_emitted: metricValue(metrics, /^watchpost_findings_emitted_total/),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\n${Math.round(rate)} spans/s delivered, ${result.daemon_cpu_seconds_per_million_spans} CPU s per million spans, peak RSS ${result.daemon_peak_rss_mib} MiB` +
      ` (target: 50000 spans/s, RSS under 400 MiB)\n`);
    if (delivered < accepted) process.stdout.write(`WARNING: ${accepted - delivered} accepted spans had not reached the sink after the drain\n`);
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
    // A profiled daemon writes its profiles while it exits.
    await sleep(options.profile ? 5000 : 500);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(directory, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

await main();
