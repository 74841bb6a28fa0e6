import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Host, Processor, ProcessorFactory, SharedComponent } from '../component.js';
import type { ServiceConfig } from '../config/load.js';
import type { Batch } from '../data/batch.js';
import { OtlpBatch } from '../data/batch.js';
import type { FactoryRegistry } from '../registry.js';
import { silentLogger, type Logger } from '../logger.js';
import { WorkerPool, type IngestResult, type StageSpec } from '../pool/pool.js';
import { Storage } from '../storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../telemetry/metrics.js';
import { AdminServer } from '../admin/server.js';
import { Admission } from '../admission.js';
import { FindingsBus } from '../findings-bus.js';
import { CHUNK_BYTES, chooseParser, textChunks, totalBytes, writeBounded, type ParserChoice } from './input.js';

export { knownFormats } from './input.js';

export interface ReplayOptions extends ParserChoice {
  files: string[];
  config?: ServiceConfig;
  registry: FactoryRegistry;
  /** The stream findings are written to, one JSON object per line. */
  output: NodeJS.WritableStream;
  /** The stream progress is written to; a progress bar is drawn when it is a terminal. */
  status: NodeJS.WritableStream & { isTTY?: boolean };
  /** Worker threads; 0 or absent means one per core. */
  threads?: number;
}

export interface ReplaySummary {
  lines: number;
  parsed: number;
  failed: number;
  /** New findings per rule id. */
  findings: Record<string, number>;
  seconds: number;
}

interface ReplayProcessor {
  id: string;
  factory: ProcessorFactory;
  config: unknown;
}

/**
 * Lists the processors replay runs: those of the config's first logs pipeline up to the last one
 * that emits findings, because what follows it cannot change the findings. Without a config, it
 * is the default detection processor.
 */
function replayProcessors(options: ReplayOptions): ReplayProcessor[] {
  const pipeline = options.config ? [...options.config.pipelines.values()].find((candidate) => candidate.signal === 'logs') : undefined;
  if (options.config && pipeline) {
    const processors = pipeline.processors.map((id) => {
      const component = options.config?.processors.get(id);
      return { id, factory: component?.factory as ProcessorFactory, config: withoutSavedState(component?.config) };
    });
    const last = processors.map((processor) => processor.factory.emits?.includes('findings') ?? false).lastIndexOf(true);
    return last >= 0 ? processors.slice(0, last + 1) : processors;
  }
  const detection = options.registry.get('processor', 'detection');
  if (!detection) throw new Error('no detection processor is built in');
  return [{ id: 'detection', factory: detection, config: withoutSavedState(detection.createDefaultConfig()) }];
}

/**
 * Turns off saving state (`state.persist`, which detection has) in a processor's config: replay
 * state lives in a temporary directory that is removed at the end, and saving it took about 5% of
 * a replay's time. Findings are the same, since active findings end at shutdown either way.
 */
function withoutSavedState(config: unknown): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const state = (config as { state?: unknown }).state;
  if (typeof state !== 'object' || state === null || !('persist' in state)) return config;
  return { ...config, state: { ...state, persist: false } };
}

/** Processors wired as in a pipeline, ending in a consumer that drops the telemetry. */
interface Chain {
  head: Consumer;
  components: (Processor | SharedComponent<unknown>)[];
}

function workerStages(processors: ReplayProcessor[]): StageSpec[] {
  return processors.map((processor) => processor.factory.workerStage?.(processor.id, processor.config)).filter((stage): stage is StageSpec => stage !== undefined);
}

function buildChain(processors: ReplayProcessor[], findings: Consumer, base: { logger: Logger; metrics: PipelineMetrics; storage: Storage; pool: WorkerPool }): Chain {
  let head: Consumer = { consume: async () => undefined };
  const components: (Processor | SharedComponent<unknown>)[] = [];
  for (const processor of [...processors].reverse()) {
    const settings = { id: processor.id, config: processor.config, ...base, admission: new Admission() };
    const shared = processor.factory.createShared?.({ ...settings, outputs: { findings } });
    const created = processor.factory.create({ ...settings, signal: 'logs', pipeline: 'logs', next: head, shared: shared?.value });
    if (shared) components.unshift(shared);
    components.push(created);
    head = created;
  }
  return { head, components };
}

/**
 * Replays log files through parsing and the processors (detection among them) on event time,
 * writing findings as JSON lines. Chunks are parsed in parallel in the worker pool but reach
 * the processors in file order, because windows depend on the order of events. Detection state
 * lives in a temporary directory that is removed at the end.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const logger = silentLogger();
  const metrics = new PipelineMetrics(new MetricsRegistry());
  const stateDirectory = mkdtempSync(join(tmpdir(), 'watchpost-replay-'));
  const storage = new Storage(stateDirectory);
  const summary: ReplaySummary = { lines: 0, parsed: 0, failed: 0, findings: {}, seconds: 0 };
  let pending: Promise<void> = Promise.resolve();

  const findingsOutput: Consumer = {
    async consume(batch: Batch) {
      if (batch.signal !== 'findings') return;
      for (const finding of batch.findings) {
        if (finding.status === 'new') summary.findings[finding.rule.id] = (summary.findings[finding.rule.id] ?? 0) + 1;
        const text = `${JSON.stringify(finding)}\n`;
        pending = pending.then(() => writeBounded(options.output, text));
      }
    },
  };
  const parser = chooseParser(options.registry, options, 'replay');
  const processors = replayProcessors(options);
  const stages = workerStages(processors);
  const modules = [...new Set([parser.module, ...processors.flatMap((processor) => processor.factory.workerModules ?? [])])];
  const pool = new WorkerPool({ threads: options.threads ?? 0, maxQueue: 0, stages, parsers: [parser], modules, logger });
  const chain = buildChain(processors, findingsOutput, { logger, metrics, storage, pool });
  // Replay drops the telemetry, so with no processor, or one lone processor that analyses in the
  // pool, nothing reads the request bytes and the workers skip encoding them. Any other processor may.
  const analysisOnly = processors.length === 0 || (processors.length === 1 && stages.length === 1 && processors[0].factory.emits?.includes('findings') === true);
  const host: Host = { admin: new AdminServer('127.0.0.1:0', logger), findingsBus: new FindingsBus(), reportStatus: () => undefined };
  for (const component of chain.components) await component.start(host);

  const progress = new Progress(options.status, await totalBytes(options.files));
  try {
    await runChunks(options, pool, chain.head, { stages: stages.map((stage) => stage.id), analysisOnly }, summary, progress);
  } finally {
    for (const component of [...chain.components].reverse()) await component.shutdown();
    await pending;
    await pool.close();
    await storage.close();
    rmSync(stateDirectory, { recursive: true, force: true });
    progress.done();
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

const EMPTY = new Uint8Array(0);

async function runChunks(options: ReplayOptions, pool: WorkerPool, head: Consumer, task: { stages: string[]; analysisOnly: boolean }, summary: ReplaySummary, progress: Progress): Promise<void> {
  const inFlight: Promise<IngestResult>[] = [];
  const depth = pool.threads * 2;
  const drainOne = async () => {
    const result = await inFlight.shift();
    if (!result) return;
    summary.lines += result.lines ?? 0;
    summary.parsed += result.itemCount - result.parseFailures;
    summary.failed += result.parseFailures;
    progress.update(summary.lines);
    if (result.itemCount === 0 || (!result.bytes && !task.analysisOnly)) return;
    const batch = OtlpBatch.fromBytes('logs', result.bytes ?? EMPTY, result.itemCount, { receiver: 'replay' });
    for (const [id, value] of Object.entries(result.stages)) batch.analysis.set(id, value);
    batch.markedBytes = result.markedBytes;
    await head.consume(batch);
  };
  for await (const { file, bytes } of textChunks(options.files, CHUNK_BYTES, (count) => progress.advance(count))) {
    inFlight.push(pool.ingest({
      signal: 'logs',
      payload: { kind: 'text', parser: 'replay', bytes, context: { observedMs: Date.now(), attributes: { 'log.file.path': file } } },
      stages: task.stages,
      analysisOnly: task.analysisOnly,
    }));
    if (inFlight.length >= depth) await drainOne();
  }
  while (inFlight.length > 0) await drainOne();
}

/** A progress bar on a terminal, redrawn at most five times a second; nothing otherwise. */
export class Progress {
  private bytes = 0;
  private lines = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }, private readonly total: number) {}

  advance(bytes: number): void {
    this.bytes += bytes;
    this.draw();
  }

  update(lines: number): void {
    this.lines = lines;
    this.draw();
  }

  private draw(): void {
    if (!this.stream.isTTY || Date.now() - this.lastDraw < 200) return;
    this.lastDraw = Date.now();
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = Math.round(this.lines / seconds);
    if (this.total <= 0) {
      this.stream.write(`\r${this.lines} lines, ${rate} lines/s`);
      return;
    }
    const fraction = Math.min(this.bytes / this.total, 1);
    const width = 30;
    const filled = Math.round(fraction * width);
    this.stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${this.lines} lines, ${rate} lines/s`);
  }

  /** Clears the bar so the summary starts on a clean line. */
  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[2K');
  }
}
