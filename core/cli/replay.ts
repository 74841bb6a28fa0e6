import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Consumer, Host, Processor, ProcessorFactory, ReceiverFactory, SharedComponent } from '../component.js';
import type { ServiceConfig } from '../config/load.js';
import type { Batch } from '../data/batch.js';
import { OtlpBatch } from '../data/batch.js';
import type { Finding } from '../data/finding.js';
import type { FactoryRegistry } from '../registry.js';
import { silentLogger, type Logger } from '../logger.js';
import { WorkerPool, type IngestResult, type ParserSpec, type StageSpec } from '../pool/pool.js';
import { Storage } from '../storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../telemetry/metrics.js';
import { AdminServer } from '../admin/server.js';
import { Admission } from '../admission.js';
import { FindingsBus } from '../findings-bus.js';

export interface ReplayOptions {
  format: string;
  files: string[];
  config?: ServiceConfig;
  registry: FactoryRegistry;
  /** Where findings go, one JSON object per line. */
  output: NodeJS.WritableStream;
  /** Where progress and the summary go. */
  status: NodeJS.WritableStream & { isTTY?: boolean };
  threads?: number;
}

export interface ReplaySummary {
  lines: number;
  parsed: number;
  failed: number;
  findings: Record<string, number>;
  seconds: number;
}

const CHUNK_LINES = 2000;

/** Finds the receiver factory that parses a format, for `parse` and `replay`. */
export function parserFor(registry: FactoryRegistry, format: string): ParserSpec {
  for (const factory of registry.all()) {
    if (factory.kind !== 'receiver') continue;
    const receiver = factory as ReceiverFactory;
    if (receiver.lineFormats?.includes(format) && receiver.parserForFormat) return receiver.parserForFormat('cli', format);
  }
  throw new Error(`unknown format "${format}"; known formats: ${knownFormats(registry).join(', ')}`);
}

export function knownFormats(registry: FactoryRegistry): string[] {
  return registry.all().flatMap((factory) => (factory.kind === 'receiver' ? [...((factory as ReceiverFactory).lineFormats ?? [])] : [])).sort();
}

interface ReplayProcessor {
  id: string;
  factory: ProcessorFactory;
  config: unknown;
}

/** The processors replay runs: those of the config's first logs pipeline, or the default detection processor. */
function replayProcessors(options: ReplayOptions): ReplayProcessor[] {
  const pipeline = options.config ? [...options.config.pipelines.values()].find((candidate) => candidate.signal === 'logs') : undefined;
  if (options.config && pipeline) {
    return pipeline.processors.map((id) => {
      const component = options.config?.processors.get(id);
      return { id, factory: component?.factory as ProcessorFactory, config: component?.config };
    });
  }
  const detection = options.registry.get('processor', 'detection');
  if (!detection) throw new Error('no detection processor is built in');
  return [{ id: 'detection', factory: detection, config: detection.createDefaultConfig() }];
}

/**
 * Replays log files through parsing and the processors (detection among them) on event time,
 * writing findings as JSON lines. Chunks are parsed in parallel in the worker pool but reach
 * the processors in file order, because windows depend on the order of events.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const started = Date.now();
  const logger: Logger = silentLogger();
  const metrics = new PipelineMetrics(new MetricsRegistry());
  const processors = replayProcessors(options);
  const parser = { ...parserFor(options.registry, options.format), id: 'replay' };
  const stages = processors.map((processor) => processor.factory.workerStage?.(processor.id, processor.config)).filter((stage): stage is StageSpec => stage !== undefined);
  const modules = [...new Set([parser.module, ...processors.flatMap((processor) => processor.factory.workerModules ?? [])])];
  const pool = new WorkerPool({ threads: options.threads ?? 0, maxQueue: 0, stages, parsers: [parser], modules, logger });
  const storage = new Storage(`${process.cwd()}/data/replay`);
  const summary: ReplaySummary = { lines: 0, parsed: 0, failed: 0, findings: {}, seconds: 0 };

  const findingsOutput: Consumer = {
    async consume(batch: Batch) {
      if (batch.signal !== 'findings') return;
      for (const finding of batch.findings) {
        summary.findings[finding.rule.id] = (summary.findings[finding.rule.id] ?? 0) + (finding.status === 'new' ? 1 : 0);
        options.output.write(`${JSON.stringify(finding satisfies Finding)}\n`);
      }
    },
  };
  const discard: Consumer = { consume: async () => undefined };
  const host: Host = { admin: new AdminServer('127.0.0.1:0', logger), findingsBus: new FindingsBus(), reportStatus: () => undefined };
  const shared: SharedComponent<unknown>[] = [];
  let chain: Consumer = discard;
  const built: Processor[] = [];
  for (const processor of [...processors].reverse()) {
    const base = { id: processor.id, config: processor.config, logger, metrics, pool, storage, admission: new Admission() };
    const sharedComponent = processor.factory.createShared?.({ ...base, outputs: { findings: findingsOutput } });
    if (sharedComponent) shared.push(sharedComponent);
    const created = processor.factory.create({ ...base, signal: 'logs', pipeline: 'logs', next: chain, shared: sharedComponent?.value });
    built.push(created);
    chain = created;
  }
  for (const component of [...shared, ...built.reverse()]) await component.start(host);

  const totalBytes = (await Promise.all(options.files.map((file) => stat(file).then((info) => info.size)))).reduce((a, b) => a + b, 0);
  const progress = new Progress(options.status, totalBytes);
  try {
    const pending: { promise: Promise<IngestResult>; lines: number }[] = [];
    const depth = pool.threads * 2;
    const drainOne = async () => {
      const next = pending.shift();
      if (!next) return;
      const result = await next.promise;
      summary.parsed += result.itemCount - result.parseFailures;
      summary.failed += result.parseFailures;
      if (result.itemCount === 0 || !result.bytes) return;
      const batch = OtlpBatch.fromBytes('logs', result.bytes, result.itemCount, { receiver: 'replay' });
      for (const [id, value] of Object.entries(result.stages)) batch.analysis.set(id, value);
      batch.markedBytes = result.markedBytes;
      await chain.consume(batch);
    };
    for (const file of options.files) {
      const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
      let chunk: string[] = [];
      const submit = async () => {
        pending.push({ promise: pool.ingest({ signal: 'logs', payload: { kind: 'lines', parser: 'replay', lines: chunk, context: { observedMs: Date.now(), attributes: { 'log.file.path': file } } }, stages: stages.map((stage) => stage.id) }), lines: chunk.length });
        chunk = [];
        if (pending.length >= depth) await drainOne();
      };
      for await (const line of lines) {
        progress.advance(Buffer.byteLength(line) + 1);
        if (line.length === 0) continue;
        summary.lines++;
        chunk.push(line);
        if (chunk.length >= CHUNK_LINES) await submit();
      }
      if (chunk.length > 0) await submit();
    }
    while (pending.length > 0) await drainOne();
  } finally {
    for (const component of [...built, ...shared]) await component.shutdown();
    await pool.close();
    await storage.close();
    progress.done();
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

/** A progress bar on a terminal; nothing otherwise. */
class Progress {
  private done_ = 0;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }, private readonly total: number) {}

  advance(bytes: number): void {
    this.done_ += bytes;
    if (!this.stream.isTTY || Date.now() - this.lastDraw < 200) return;
    this.lastDraw = Date.now();
    const fraction = this.total > 0 ? Math.min(this.done_ / this.total, 1) : 0;
    const width = 30;
    const filled = Math.round(fraction * width);
    this.stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%`);
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[2K');
  }
}
