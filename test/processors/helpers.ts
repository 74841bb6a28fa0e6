import Long from 'long';
import type { Component, Consumer, Host, Processor, ProcessorFactory } from '../../core/component.js';
import { OtlpBatch, type Batch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import { FindingsBus } from '../../core/findings-bus.js';
import { Admission } from '../../core/admission.js';
import { AdminServer } from '../../core/admin/server.js';
import { silentLogger } from '../../core/logger.js';
import { mergeDefaults } from '../../core/config/schema.js';
import { toAttributes, type AttributeValue } from '../../core/otlp/attributes.js';
import type { ExportLogsServiceRequest, ExportTraceServiceRequest, ILogRecord, ISpan } from '../../core/otlp/codec.js';
import { WorkerPool } from '../../core/pool/pool.js';
import { Storage } from '../../core/storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../../core/telemetry/metrics.js';
import type { Signal } from '../../core/data/signal.js';

/** A consumer that records every batch it takes and can be set to fail. */
export class CaptureConsumer implements Consumer {
  readonly batches: Batch[] = [];
  failWith: Error | undefined;

  async consume(batch: Batch): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.batches.push(batch);
  }

  get items(): number {
    return this.batches.reduce((total, batch) => total + batch.itemCount, 0);
  }

  /** Returns every span of every captured traces batch. */
  spans(): ISpan[] {
    return this.batches.flatMap((batch) => batch.signal === 'traces'
      ? ((batch.toMessage() as ExportTraceServiceRequest).resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []))
      : []);
  }

  records(): ILogRecord[] {
    return this.batches.flatMap((batch) => batch.signal === 'logs'
      ? ((batch.toMessage() as ExportLogsServiceRequest).resourceLogs ?? []).flatMap((resource) => (resource.scopeLogs ?? []).flatMap((scope) => scope.logRecords ?? []))
      : []);
  }
}

export interface TestHost extends Host {
  findingsBus: FindingsBus;
  publish(findings: Finding[]): void;
}

export function testHost(admin = new AdminServer('127.0.0.1:0', silentLogger())): TestHost {
  const findingsBus = new FindingsBus();
  return { admin, findingsBus, reportStatus: () => undefined, publish: (findings) => findingsBus.publish(findings) };
}

/** Everything a processor needs around it, with a real worker pool that loads `modules`. */
export class ProcessorHarness {
  readonly registry = new MetricsRegistry();
  readonly metrics = new PipelineMetrics(this.registry);
  readonly admission = new Admission();
  readonly pool: WorkerPool;
  readonly storage = new Storage('/nonexistent-storage-unused');

  constructor(modules: readonly string[] = [], stages: ConstructorParameters<typeof WorkerPool>[0]['stages'] = []) {
    this.pool = new WorkerPool({ threads: 1, maxQueue: 0, stages, parsers: [], modules: [...modules], logger: silentLogger() });
  }

  config<C>(factory: ProcessorFactory<C, unknown>, overrides: Record<string, unknown> = {}): C {
    return mergeDefaults(factory.createDefaultConfig(), overrides);
  }

  create<C, S>(factory: ProcessorFactory<C, S>, options: { id?: string; config: C; next: Consumer; signal?: Signal; shared?: S }): Processor {
    const id = options.id ?? factory.type;
    return factory.create({
      id,
      config: options.config,
      logger: silentLogger(),
      metrics: this.metrics,
      pool: this.pool,
      storage: this.storage,
      admission: this.admission,
      signal: options.signal ?? 'traces',
      pipeline: options.signal ?? 'traces',
      next: options.next,
      shared: options.shared as S,
    });
  }

  createShared<C, S>(factory: ProcessorFactory<C, S>, options: { id?: string; config: C; outputs?: Partial<Record<Signal, Consumer>> }): Component & { value: S } {
    const shared = factory.createShared?.({
      id: options.id ?? factory.type,
      config: options.config,
      logger: silentLogger(),
      metrics: this.metrics,
      pool: this.pool,
      storage: this.storage,
      admission: this.admission,
      outputs: options.outputs ?? {},
    });
    if (!shared) throw new Error(`${factory.type} has no shared state`);
    return shared;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export function nanos(ms: number): Long {
  return Long.fromNumber(ms, true).mul(1_000_000);
}

export interface SpanOptions {
  traceId: string;
  spanId?: string;
  name?: string;
  /** SpanKind: 2 is SERVER. */
  kind?: number;
  startMs?: number;
  durationMs?: number;
  /** Exact duration in nanoseconds; overrides durationMs. */
  durationNanos?: number;
  status?: 0 | 1 | 2;
  attributes?: Record<string, AttributeValue | undefined>;
}

let spanCounter = 0;

export function span(options: SpanOptions): ISpan {
  const startMs = options.startMs ?? Date.UTC(2026, 11, 4, 10, 0, 0);
  const start = nanos(startMs);
  const end = options.durationNanos !== undefined ? start.add(options.durationNanos) : nanos(startMs + (options.durationMs ?? 10));
  spanCounter++;
  return {
    traceId: hex(options.traceId),
    spanId: hex(options.spanId ?? spanCounter.toString(16).padStart(16, '0')),
    name: options.name ?? 'GET /',
    kind: options.kind ?? 2,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: toAttributes(options.attributes ?? {}),
    status: { code: options.status ?? 0 },
  };
}

/** Builds a traces request with one resource per service. */
export function traces(byService: Record<string, ISpan[]>): ExportTraceServiceRequest {
  return {
    resourceSpans: Object.entries(byService).map(([service, spans]) => ({
      resource: { attributes: toAttributes({ 'service.name': service }) },
      scopeSpans: [{ scope: { name: 'test' }, spans }],
    })),
  };
}

export function logs(records: ILogRecord[], service = 'edge'): ExportLogsServiceRequest {
  return { resourceLogs: [{ resource: { attributes: toAttributes({ 'service.name': service }) }, scopeLogs: [{ scope: { name: 'test' }, logRecords: records }] }] };
}

export function record(options: { traceId?: string; body?: string; timeMs?: number; attributes?: Record<string, AttributeValue | undefined> }): ILogRecord {
  return {
    timeUnixNano: nanos(options.timeMs ?? Date.UTC(2026, 11, 4, 10, 0, 0)),
    traceId: options.traceId ? hex(options.traceId) : new Uint8Array(0),
    body: options.body !== undefined ? { stringValue: options.body } : undefined,
    attributes: toAttributes(options.attributes ?? {}),
  };
}

export function tracesBatch(request: ExportTraceServiceRequest, receiver = 'otlp'): OtlpBatch {
  return OtlpBatch.fromMessage('traces', request, { receiver });
}

export function logsBatch(request: ExportLogsServiceRequest, receiver = 'otlp'): OtlpBatch {
  return OtlpBatch.fromMessage('logs', request, { receiver });
}

/** Builds an encoded batch the way a receiver does, so processors see protobuf bytes. */
export function encodedBatch(batch: OtlpBatch): OtlpBatch {
  return OtlpBatch.fromBytes(batch.signal, batch.toBytes(), batch.itemCount, batch.origin);
}

export function traceIdHex(spanValue: ISpan): string {
  return Buffer.from(spanValue.traceId as Uint8Array).toString('hex');
}

export function randomTraceId(random: () => number): string {
  let text = '';
  for (let i = 0; i < 32; i++) text += Math.floor(random() * 16).toString(16);
  return text;
}

/** A small seeded generator (mulberry32) so generated data is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
