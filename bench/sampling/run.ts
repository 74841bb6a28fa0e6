import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/*
 * Sampling benchmark: OTLP traces at full speed into Watchpost, first with no processors (the
 * baseline rate), then through apimetrics and tail_sampling (decision_wait 10s, the security
 * policy plus 10% probabilistic), then with detection in front of them. Prints spans per second,
 * the daemon's CPU time per million spans, peak RSS and the share of attack traces kept.
 * usage: npm run bench:sampling [-- SECONDS [CONCURRENCY [SPANS_PER_SECOND]]]
 * (defaults 20 s, 16 connections, as fast as the daemon accepts). The daemon runs from dist/, as
 * `npm start` runs it; the npm script builds it first. BENCH_SOURCE=1 runs it from the
 * TypeScript sources through tsx instead, which takes about 40 MiB more.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const SECONDS = Number(process.argv[2] ?? 20);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const RATE = Number(process.argv[4] ?? 0);
const DECISION_WAIT_S = 10;
const PORTS = { otlp: 15741, admin: 15788 };

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Builds the config of one run; connectors get pipelines for their output, so it reaches the sink too. */
function config(processors: string[]): string {
  const extraPipelines = [
    processors.includes('apimetrics') ? '    metrics/api: { receivers: [apimetrics], exporters: [bench_sink] }' : '',
    processors.includes('detection') ? '    findings: { receivers: [detection], exporters: [bench_sink] }' : '',
  ].filter(Boolean).join('\n');
  return `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:${PORTS.otlp} } } }
processors:
  detection: {}
  apimetrics: { interval: 5s }
  tail_sampling:
    decision_wait: ${DECISION_WAIT_S}s
    num_traces: 200000
    policies:
      - { name: attacks, type: security }
      - { name: rest, type: probabilistic, probabilistic: { sampling_percentage: 10 } }
exporters:
  bench_sink: {}
service:
  admin: { endpoint: 127.0.0.1:${PORTS.admin} }
  telemetry: { logs: { level: info } }
  pipelines:
    traces: { receivers: [otlp], processors: [${processors.join(', ')}], exporters: [bench_sink] }
${extraPipelines}`;
}

/**
 * The runs: the baseline, apimetrics with tail_sampling (without detection nothing marks attacks,
 * so the security policy keeps only what the 10% policy keeps), and the pipeline a user would run.
 * BENCH_PROCESSORS=a,b replaces the runs after the baseline with one through those processors.
 */
const PROCESSOR_RUNS = process.env.BENCH_PROCESSORS ? [process.env.BENCH_PROCESSORS.split(',')] : [['apimetrics', 'tail_sampling'], ['detection', 'apimetrics', 'tail_sampling']];

const ALL_RUNS = [
  { name: 'OTLP in, no processors (baseline)', config: config([]) },
  ...PROCESSOR_RUNS.map((processors) => ({ name: processors.join(' + '), config: config(processors) })),
];

/** BENCH_RUNS=0,2 runs only those runs, by index; the default runs all. */
const RUNS = process.env.BENCH_RUNS ? ALL_RUNS.filter((_, index) => process.env.BENCH_RUNS?.split(',').includes(String(index))) : ALL_RUNS;

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** CPU seconds a process (all its threads) used so far, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(status.split('\n').find((line) => line.startsWith(`${name}:`))?.split(/\s+/)[1] ?? 0) / 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

async function waitForReady(child: ChildProcess): Promise<void> {
  let output = '';
  await new Promise<void>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"msg":"ready"')) done();
    });
    child.on('exit', (code) => fail(new Error(`daemon exited with ${code}: ${output}`)));
  });
}

async function sinkCounts(): Promise<{ spans: number; attack_traces: number; metric_batches: number; findings: number }> {
  return (await fetch(`http://127.0.0.1:${PORTS.admin}/bench/sink`)).json() as never;
}

async function measure(run: (typeof ALL_RUNS)[number], directory: string) {
  const file = join(directory, 'config.yaml');
  writeFileSync(file, run.config);
  const daemon = spawn(process.execPath, process.env.BENCH_SOURCE ? ['--import', TSX, join(ROOT, 'bench', 'sampling', 'daemon.ts'), file] : [join(ROOT, 'dist', 'bench', 'sampling', 'daemon.js'), file], { cwd: directory, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitForReady(daemon);
    await sleep(1000);
    const cpuBefore = cpuSeconds(daemon.pid as number);
    const generator = spawn(process.execPath, ['--import', TSX, join(ROOT, 'bench', 'sampling', 'generate.ts'), `http://127.0.0.1:${PORTS.otlp}/v1/traces`, String(SECONDS), String(CONCURRENCY), String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    generator.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    await new Promise((done) => generator.on('exit', done));
    const sent = JSON.parse(output) as { requests: number; spans: number; attackTraces: number; refused: number; failed: number; seconds: number };
    const cpu = cpuSeconds(daemon.pid as number) - cpuBefore;
    // Let the last traces reach their decision and the sink.
    await sleep((DECISION_WAIT_S + 3) * 1000);
    const sink = await sinkCounts();
    const memory = memoryMiB(daemon.pid as number);
    return { sent, sink, memory, cpu };
  } finally {
    daemon.kill('SIGTERM');
    await new Promise((done) => daemon.on('exit', done));
  }
}

const directory = mkdtempSync(join(tmpdir(), 'watchpost-bench-sampling-'));
const rows: string[] = [];
let baseline = 0;
try {
  for (const run of RUNS) {
    const { sent, sink, memory, cpu } = await measure(run, directory);
    const rate = sent.spans / sent.seconds;
    if (baseline === 0) baseline = rate;
    const kept = sent.attackTraces > 0 ? `${((100 * sink.attack_traces) / sent.attackTraces).toFixed(1)}% (${sink.attack_traces} of ${sent.attackTraces})` : '-';
    const cpuPerMillion = (cpu / sent.spans) * 1e6;
    rows.push(`| ${run.name} | ${Math.round(rate).toLocaleString('en-US')} | ${((100 * rate) / baseline).toFixed(0)}% | ${cpuPerMillion.toFixed(1)} | ${Math.round(memory.peak)} | ${sink.spans.toLocaleString('en-US')} of ${sent.spans.toLocaleString('en-US')} | ${kept} | ${sent.refused} / ${sent.failed} |`);
    process.stderr.write(`${run.name}: ${JSON.stringify({ sent, sink, memory, cpu })}\n`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
process.stdout.write(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; ${SECONDS} s per run, ${CONCURRENCY} connections, ${RATE > 0 ? `offered ${RATE} spans/s` : 'as fast as accepted'}\n\n`);
process.stdout.write('| run | spans/s accepted | of baseline | daemon CPU s per 1M spans | peak RSS MiB | spans exported | attack traces kept | refused / failed requests |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n');
process.stdout.write(`${rows.join('\n')}\n`);
