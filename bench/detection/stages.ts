import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deserialize, serialize } from 'node:v8';
import { decodeRequest, type ExportRequest } from '../../core/otlp/codec.js';
import { silentLogger } from '../../core/logger.js';
import { lineParser } from '../../receivers/gatewaylog/worker.js';
import { createDefaultConfig } from '../../processors/detection/config.js';
import { DetectionEngine } from '../../processors/detection/engine.js';
import { rulesFor } from '../../processors/detection/factory.js';
import { DetectionStage, type DetectionStageResult } from '../../processors/detection/worker.js';
import { eventFromFields, type HttpEvent } from '../../processors/detection/event.js';
import { unpackMatches } from '../../processors/detection/matches.js';
import { labeledRequests, requestFields } from '../../test/helpers/attack-corpus.js';
import { encodeBatches } from '../otlp/spans.js';
import { generateLog } from '../gateway/generate.js';

/*
 * `npm run bench:detection-stages` times the detection processor's parts in this one thread, in
 * CPU microseconds per event (process.cpuUsage), so that the figures move less than wall-clock
 * rates when other programs share the cores. Each figure is the median of the timed rounds, after
 * warm-up rounds.
 *
 * - spans: the OTLP benchmark's export requests (512 SERVER spans each, one in 30 an attack);
 * - access log: log records the gatewaylog parser made from a generated nginx `combined` log (the
 *   gateway benchmark's generator);
 * - corpus: `evaluate` over the labelled corpus's events (mostly attacks), events built beforehand.
 *
 * For spans and the access log, `worker` is what a pool thread spends: the stage (events, rules,
 * compact matches) and the structured clone of its result. Decoding and parsing are not timed.
 * `main` is what the main thread spends: reading the cloned result, unpacking the matches and
 * running the stateful rules on them.
 */

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, lines: { type: 'string', default: '20000' } } });
const rounds = Number(options.rounds);
const lineCount = Number(options.lines);
/** Rounds run before timing starts, so that the timed rounds run optimized code. */
const WARM_UP_ROUNDS = 3;

const config = createDefaultConfig();
const stage = new DetectionStage({ rules: rulesFor(config), markAttribute: config.mark_attribute, apiKeyHashKey: 'bench' });

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

interface Timing {
  /** CPU microseconds per event of each timed round. */
  perRound: number[];
  /** Events per round. */
  events: number;
  /** Matches per round. */
  matches: number;
}

/** Counts of one round: events handled, matches made, and the CPU microseconds spent on them. */
interface Round {
  events: number;
  matches: number;
  micros: number;
}

/** Times `round` over the warm-up and timed rounds. */
function timeRounds(round: () => Round): Timing {
  const timing: Timing = { perRound: [], events: 0, matches: 0 };
  for (let index = 0; index < WARM_UP_ROUNDS + rounds; index++) {
    const { events, matches, micros } = round();
    if (index < WARM_UP_ROUNDS) continue;
    timing.perRound.push(micros / events);
    timing.events = events;
    timing.matches = matches;
  }
  return timing;
}

/** Results of the last round, as the main thread receives them, for timing the main thread. */
const results = { traces: [] as Uint8Array[], logs: [] as Uint8Array[] };

/**
 * Runs the stage over fresh requests and clones each result as postMessage would; `make` builds
 * each request untimed, since the stage marks what it reads.
 */
function stageRound(signal: 'traces' | 'logs', count: number, make: (index: number) => ExportRequest): () => Round {
  return () => {
    let events = 0;
    let matches = 0;
    let micros = 0;
    results[signal] = [];
    for (let index = 0; index < count; index++) {
      const request = make(index);
      const start = cpuMicros();
      const result = stage.run(signal, request).result as DetectionStageResult;
      const cloned = serialize(result);
      micros += cpuMicros() - start;
      events += result.events;
      results[signal].push(cloned);
      matches += result.matches.count;
    }
    return { events, matches, micros };
  };
}

function spanTiming(): Timing {
  const batches = encodeBatches(8);
  return timeRounds(stageRound('traces', batches.length, (index) => decodeRequest('traces', batches[index])));
}

async function logTiming(): Promise<Timing> {
  const directory = mkdtempSync(join(tmpdir(), 'watchpost-bench-'));
  try {
    const file = join(directory, 'access.log');
    await generateLog(file, lineCount);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const parse = lineParser('nginx_combined', {});
    const chunks: string[][] = [];
    for (let at = 0; at < lines.length; at += 500) chunks.push(lines.slice(at, at + 500));
    return timeRounds(stageRound('logs', chunks.length, (index) => parse(chunks[index], { observedMs: Date.now() }).request));
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function corpusTiming(): Timing {
  const events: HttpEvent[] = labeledRequests().map((row) => eventFromFields(requestFields(row), Date.UTC(2024, 0, 1), stage.extractOptions));
  return timeRounds(() => {
    const writer = stage.matchWriter();
    const start = cpuMicros();
    for (const event of events) stage.evaluate(event, writer);
    const micros = cpuMicros() - start;
    return { events: events.length, matches: writer.finish().count, micros };
  });
}

/** CPU microseconds per event the main thread spends on the cloned results: reading, unpacking, stateful rules. Median of the rounds. */
function mainThreadMicros(cloned: Uint8Array[], events: number): number {
  const perRound: number[] = [];
  for (let round = 0; round < Math.min(rounds, 7); round++) {
    const engine = new DetectionEngine({ rules: rulesFor(config).rules, source: 'detection', maxKeysPerRule: 100_000, emit: () => {}, logger: silentLogger() });
    const start = cpuMicros();
    for (const bytes of cloned) engine.process(unpackMatches((deserialize(bytes) as DetectionStageResult).matches));
    perRound.push((cpuMicros() - start) / events);
  }
  return median(perRound);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round2(sorted[Math.floor(sorted.length / 2)]);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

const spans = spanTiming();
const spansMain = mainThreadMicros(results.traces, spans.events);
const spanBytes = results.traces.reduce((sum, bytes) => sum + bytes.length, 0);
results.traces = [];
const logs = await logTiming();
const logsMain = mainThreadMicros(results.logs, logs.events);
const logBytes = results.logs.reduce((sum, bytes) => sum + bytes.length, 0);
results.logs = [];
const corpus = corpusTiming();
const report = {
  rounds,
  cpu_us_per_event: {
    spans_worker: median(spans.perRound),
    spans_main: spansMain,
    access_log_worker: median(logs.perRound),
    access_log_main: logsMain,
    corpus_evaluate: median(corpus.perRound),
  },
  corpus_events_per_cpu_second: Math.round(1e6 / median(corpus.perRound)),
  matches_per_event: { spans: round2(spans.matches / spans.events), access_log: round2(logs.matches / logs.events) },
  cloned_bytes_per_event: { spans: Math.round(spanBytes / spans.events), access_log: Math.round(logBytes / logs.events) },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
