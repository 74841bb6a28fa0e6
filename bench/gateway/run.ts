import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { generateLog, type GroundTruth } from './generate.js';
import { crowdsecInstalled, runCrowdSec, type CrowdSecRun } from './crowdsec.js';

/*
 * npm run bench:gateway
 *
 * 1. Generates a 1,000,000-line nginx combined log with attack campaigns from known addresses
 *    (the ground truth records them) into BENCH_DIR.
 * 2. Replays it with `watchpost replay` from dist/ through parsing and the default rules, and
 *    once through parsing alone.
 * 3. Takes a 20,000-line slice of the same traffic (every attack line and an even sample of the
 *    benign ones, in order) and replays it through CrowdSec from Debian's package and through
 *    Watchpost.
 * 4. Prints lines per second side by side and, per attacking address, what each one flagged.
 *
 * Environment: BENCH_LINES (1000000), BENCH_SLICE (20000), BENCH_THREADS (0: one worker per core),
 * BENCH_DIR (a folder under the system temp dir), CROWDSEC_TIMEOUT (seconds, 1800),
 * SKIP_CROWDSEC=1. Results also go to BENCH_DIR/results.json.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'core', 'cli', 'main.js');
const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const SLICE = Number(process.env.BENCH_SLICE ?? 20_000);
const THREADS = Number(process.env.BENCH_THREADS ?? 0);
const DIR = process.env.BENCH_DIR ?? join(tmpdir(), 'watchpost-bench-gateway');
const CROWDSEC_TIMEOUT = Number(process.env.CROWDSEC_TIMEOUT ?? 1800);

interface WatchpostRun {
  lines: number;
  /** Wall-clock seconds of the whole command, start-up included. */
  seconds: number;
  /** Seconds the replay itself reported. */
  replaySeconds: number;
  cpuSeconds: number;
  findings: { address: string; rule: string }[];
}

function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // Own time, children already waited for, and children still running: `replay` runs the
    // command again in a child process with a larger young generation.
    let ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
        const childTicks = cpuTicks(Number(child));
        if (Number.isFinite(childTicks)) ticks += childTicks;
      }
    }
    return ticks;
  } catch {
    return NaN;
  }
}

/** Runs `watchpost replay` on a file; findings go to `findingsPath`. */
async function runWatchpost(log: string, lines: number, findingsPath: string, extra: string[] = []): Promise<WatchpostRun> {
  const started = Date.now();
  const out = createWriteStream(findingsPath);
  const child = spawn(process.execPath, [CLI, 'replay', '--format', 'nginx_combined', '--threads', String(THREADS), ...extra, log], { stdio: ['ignore', 'pipe', 'pipe'] });
  const written = pipeline(child.stdout, out);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  let ticks = 0;
  const sampler = setInterval(() => {
    const sample = cpuTicks(child.pid as number);
    if (Number.isFinite(sample)) ticks = sample;
  }, 100);
  const [code] = await once(child, 'exit') as [number];
  clearInterval(sampler);
  await written;
  if (code !== 0) throw new Error(`watchpost replay exited with ${code}: ${stderr}`);
  const seconds = (Date.now() - started) / 1000;
  const replaySeconds = Number(/in ([\d.]+) s/.exec(stderr)?.[1] ?? seconds);
  const findings = readFileSync(findingsPath, 'utf8').split('\n').filter(Boolean).map((line) => {
    const finding = JSON.parse(line) as { actor?: { address?: string }; rule: { id: string } };
    return { address: finding.actor?.address ?? '', rule: finding.rule.id };
  });
  return { lines, seconds, replaySeconds, cpuSeconds: ticks / 100, findings };
}

/** Writes every attack line and an even sample of the benign ones, `size` lines in all, in log order. */
async function writeSlice(log: string, truth: GroundTruth, size: number, slicePath: string): Promise<number> {
  const attackers = new Set(truth.attackers.map((attacker) => attacker.address));
  const benignWanted = Math.max(0, size - truth.attackLines);
  const benignTotal = truth.lines - truth.attackLines;
  const out = createWriteStream(slicePath);
  let benignSeen = 0;
  let benignTaken = 0;
  let written = 0;
  for await (const line of createInterface({ input: createReadStream(log), crlfDelay: Infinity })) {
    const address = line.slice(0, line.indexOf(' '));
    let keep = attackers.has(address);
    if (!keep) {
      benignSeen++;
      // Take a benign line whenever the share taken falls behind the share wanted.
      if (benignTaken < Math.floor((benignSeen * benignWanted) / benignTotal)) {
        keep = true;
        benignTaken++;
      }
    }
    if (keep) {
      if (!out.write(`${line}\n`)) await once(out, 'drain');
      written++;
    }
  }
  out.end();
  await once(out, 'finish');
  return written;
}

function rate(lines: number, seconds: number): string {
  return seconds > 0 ? `${Math.round(lines / seconds).toLocaleString('en-US')}` : '-';
}

function flaggedBy(items: { address: string; rule?: string; scenario?: string }[]): Map<string, Set<string>> {
  const flagged = new Map<string, Set<string>>();
  for (const item of items) {
    const name = (item.rule ?? item.scenario) as string;
    const key = item.address.toLowerCase();
    if (!flagged.has(key)) flagged.set(key, new Set());
    flagged.get(key)?.add(name);
  }
  return flagged;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing; run npm run build first`);
  mkdirSync(DIR, { recursive: true });
  const log = join(DIR, `access-${LINES}.log`);
  const truthPath = join(DIR, `ground-truth-${LINES}.json`);
  let truth: GroundTruth;
  if (existsSync(log) && existsSync(truthPath)) {
    truth = JSON.parse(readFileSync(truthPath, 'utf8')) as GroundTruth;
    console.log(`using ${log} (${truth.lines} lines, ${truth.attackers.length} attacking addresses)`);
  } else {
    console.log(`generating ${LINES} lines into ${log} …`);
    truth = await generateLog(log, LINES);
    writeFileSync(truthPath, JSON.stringify(truth, null, 2));
  }
  const threads = THREADS > 0 ? THREADS : cpus().length;

  console.log(`watchpost: replay of ${truth.lines} lines, parse and default rules (${threads} worker threads) …`);
  const full = await runWatchpost(log, truth.lines, join(DIR, 'findings-full.jsonl'));
  const parseOnlyConfig = join(DIR, 'parse-only.yaml');
  writeFileSync(parseOnlyConfig, `receivers:\n  gatewaylog: { include: [${log}] }\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    logs: { receivers: [gatewaylog], exporters: [debug] }\n`);
  console.log('watchpost: the same, parse only …');
  const parseOnly = await runWatchpost(log, truth.lines, join(DIR, 'findings-parse.jsonl'), ['--config', parseOnlyConfig]);

  const slice = join(DIR, `slice-${SLICE}.log`);
  const sliceLines = await writeSlice(log, truth, SLICE, slice);
  console.log(`slice: ${sliceLines} lines (${truth.attackLines} attack lines) in ${slice}`);
  console.log('watchpost: replay of the slice …');
  const sliceRun = await runWatchpost(slice, sliceLines, join(DIR, 'findings-slice.jsonl'));
  let crowdsec: CrowdSecRun | undefined;
  if (process.env.SKIP_CROWDSEC === '1') {
    console.log('crowdsec: skipped (SKIP_CROWDSEC=1)');
  } else if (!crowdsecInstalled()) {
    console.log('crowdsec: not installed (Debian: apt-get install crowdsec); its side is left out');
  } else {
    console.log(`crowdsec: replay of the slice (bounded at ${CROWDSEC_TIMEOUT} s; about 100-150 lines/s expected) …`);
    crowdsec = await runCrowdSec(slice, sliceLines, join(DIR, 'crowdsec'), CROWDSEC_TIMEOUT);
  }

  const watchpostFlags = flaggedBy(sliceRun.findings);
  const crowdsecFlags = crowdsec ? flaggedBy(crowdsec.alerts) : new Map<string, Set<string>>();
  const attackerSet = new Set(truth.attackers.map((attacker) => attacker.address.toLowerCase()));
  const missed = truth.attackers.filter((attacker) => crowdsecFlags.has(attacker.address.toLowerCase()) && !watchpostFlags.has(attacker.address.toLowerCase()));
  const falsePositives = (flags: Map<string, Set<string>>) => [...flags.keys()].filter((address) => !attackerSet.has(address));

  const lines: string[] = [];
  lines.push('', '## Throughput', '', '| run | lines | seconds | lines/s | CPU s |', '| --- | --- | --- | --- | --- |');
  lines.push(`| Watchpost, parse + default rules, full log | ${full.lines} | ${full.replaySeconds.toFixed(2)} | ${rate(full.lines, full.replaySeconds)} | ${full.cpuSeconds.toFixed(1)} |`);
  lines.push(`| Watchpost, parse only, full log | ${parseOnly.lines} | ${parseOnly.replaySeconds.toFixed(2)} | ${rate(parseOnly.lines, parseOnly.replaySeconds)} | ${parseOnly.cpuSeconds.toFixed(1)} |`);
  lines.push(`| Watchpost, parse + default rules, slice | ${sliceRun.lines} | ${sliceRun.replaySeconds.toFixed(2)} | ${rate(sliceRun.lines, sliceRun.replaySeconds)} | ${sliceRun.cpuSeconds.toFixed(1)} |`);
  if (crowdsec) lines.push(`| CrowdSec ${crowdsec.version}, slice${crowdsec.timedOut ? ' (stopped at the time bound)' : ''} | ${crowdsec.lines} | ${crowdsec.seconds.toFixed(1)} | ${rate(crowdsec.lines, crowdsec.seconds)} | ${crowdsec.cpuSeconds.toFixed(1)} |`);
  lines.push('', '## Attacking addresses in the slice', '', '| address | campaign | CrowdSec | Watchpost |', '| --- | --- | --- | --- |');
  for (const attacker of truth.attackers) {
    const key = attacker.address.toLowerCase();
    const cs = crowdsec ? [...(crowdsecFlags.get(key) ?? [])].map((name) => name.replace(/^[^/]+\//, '')).sort().join(', ') || '-' : 'not run';
    const wp = [...(watchpostFlags.get(key) ?? [])].sort().join(', ') || '-';
    lines.push(`| ${attacker.address} | ${attacker.campaign} | ${cs} | ${wp} |`);
  }
  const flaggedCount = (flags: Map<string, Set<string>>) => truth.attackers.filter((attacker) => flags.has(attacker.address.toLowerCase())).length;
  lines.push('', `attacking addresses: ${truth.attackers.length}; flagged by CrowdSec: ${crowdsec ? flaggedCount(crowdsecFlags) : 'not run'}; by Watchpost: ${flaggedCount(watchpostFlags)}`);
  lines.push(`flagged by CrowdSec but not by Watchpost: ${crowdsec ? (missed.map((attacker) => `${attacker.address} (${attacker.campaign})`).join(', ') || 'none') : 'not run'}`);
  lines.push(`benign addresses flagged: CrowdSec ${crowdsec ? falsePositives(crowdsecFlags).length : 'not run'}, Watchpost ${falsePositives(watchpostFlags).length}`);
  console.log(lines.join('\n'));

  writeFileSync(join(DIR, 'results.json'), JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, threads, full, parseOnly: { ...parseOnly, findings: undefined }, slice: sliceRun, crowdsec, missed: missed.map((attacker) => attacker.address) }, null, 2));
  console.log(`\nresults: ${join(DIR, 'results.json')}`);
}

await main();
