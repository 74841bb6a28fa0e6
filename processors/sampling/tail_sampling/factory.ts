import { deflateRaw } from 'node:zlib';
import type { Host, Processor, ProcessorFactory, ProcessorSettings } from '../../../core/component.js';
import { OtlpBatch, type Batch } from '../../../core/data/batch.js';
import type { StageSpec } from '../../../core/pool/pool.js';
import type { Counter } from '../../../core/telemetry/metrics.js';
import { DropLog } from '../../helper/drop-log.js';
import { DeflatedRequest, InflatedCache, encodeSpanGroups, groupSpansByTrace, spanBytes, type SpanGroup } from '../../helper/otlp-wire.js';
import { TraceBuffer, type Decision, type Released } from './buffer.js';
import { createDefaultConfig, schema, validateConfig, type TailSamplingConfig } from './config.js';
import { compilePolicies } from './policies.js';
import { collectPredicates, type CollectedPredicates } from './predicates.js';
import type { SecurityState } from './security.js';
import type { GroupResult, GroupTask } from './worker.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/** zlib's fastest level: held requests deflate nearly as well as at the default level, about three times faster. */
const DEFLATE_LEVEL = 1;

/** Bytes of batches waiting to be deflated at most; past it `consume` waits, which slows the sender. */
const MAX_DEFLATING_BYTES = 16 * 1024 * 1024;

/** Bytes of inflated batches kept for the next spans passed on from them. */
const INFLATED_CACHE_BYTES = 8 * 1024 * 1024;

/** A deflated copy larger than this share of the batch is not kept: inflating it again would cost more than it saves. */
const MAX_DEFLATED_SHARE = 0.5;

/** Spans and bytes per batch passed on at most, so one decision tick does not build a huge request. */
const MAX_SPANS_PER_OUTPUT = 8192;
const MAX_BYTES_PER_OUTPUT = 4 * 1024 * 1024;

const predicatesByConfig = new WeakMap<TailSamplingConfig, CollectedPredicates>();

function predicatesFor(config: TailSamplingConfig): CollectedPredicates {
  let collected = predicatesByConfig.get(config);
  if (!collected) {
    collected = collectPredicates(config);
    predicatesByConfig.set(config, collected);
  }
  return collected;
}

interface TailMetrics {
  traces: Counter;
  lateSpans: Counter;
  early: Counter;
}

/**
 * Holds each trace's spans for `decision_wait` after its first span, then keeps or drops the
 * whole trace by its policies. The worker pool summarizes per trace what the policies read; this
 * side keeps the spans as slices of the encoded batches and never decodes one.
 *
 * Each batch is held deflated: zlib compresses it in its thread pool while the batch waits, and
 * the groups switch to the deflated copy when it is ready. Passing spans on inflates the batch
 * again, and an InflatedCache keeps the recent ones so that later steps reuse them.
 *
 * A batch is acknowledged once its spans are buffered: holding the sender for the decision wait
 * would time its requests out. Spans still buffered when the process dies are therefore lost;
 * at shutdown every pending trace is decided and passed on.
 */
class TailSamplingProcessor implements Processor {
  private readonly buffer: TraceBuffer;
  private readonly security: SecurityState[];
  private readonly predicates: CollectedPredicates;
  private readonly metrics: TailMetrics;
  private readonly dropLog: DropLog;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly deflating = new Set<Promise<void>>();
  private deflatingBytes = 0;
  private readonly inflated = new InflatedCache(INFLATED_CACHE_BYTES);
  private readonly outbox: Released[] = [];
  private pump: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly settings: ProcessorSettings<TailSamplingConfig>) {
    const { config, metrics, id } = settings;
    this.predicates = predicatesFor(config);
    const compiled = compilePolicies(config, this.predicates);
    this.security = compiled.security;
    const registry = metrics.registry;
    this.metrics = {
      traces: registry.counter('watchpost_tail_sampling_traces_total', 'Traces decided by tail sampling, by decision and the first policy that sampled them.'),
      lateSpans: registry.counter('watchpost_tail_sampling_late_spans_total', 'Spans that arrived after their trace was decided and followed that decision.'),
      early: registry.counter('watchpost_tail_sampling_early_decisions_total', 'Traces decided before decision_wait ended because num_traces or max_spans_per_trace was reached.'),
    };
    registry.gauge('watchpost_tail_sampling_pending_traces', 'Traces waiting for their decision.').track({ processor: id, pipeline: settings.pipeline }, () => this.buffer.size);
    this.buffer = new TraceBuffer(config, compiled.policies, {
      decided: (decision) => this.countDecision(decision),
      late: (sampled, spans) => this.metrics.lateSpans.add({ processor: id, decision: sampled ? 'sampled' : 'not_sampled' }, spans),
    });
    this.dropLog = new DropLog(settings.logger, 'tail sampling lost sampled spans because the next consumer refused them');
  }

  async start(host: Host): Promise<void> {
    if (this.security.length > 0) {
      this.unsubscribe = host.findingsBus.subscribe((findings) => {
        const now = Date.now();
        for (const state of this.security) this.buffer.promote(state.observe(findings, now));
      });
    }
    const tick = Math.max(10, Math.min(1000, Math.floor(this.settings.config.decision_wait / 4)));
    this.timer = setInterval(() => this.send(this.buffer.releaseDue(Date.now())), tick);
    this.timer.unref();
  }

  /** Decides every pending trace with the spans it has and waits until they were passed on. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await Promise.all([...this.deflating]);
    this.send(this.buffer.releaseAll(Date.now()));
    await Promise.allSettled([...this.inFlight]);
    this.inflated.clear();
    this.dropLog.flush();
  }

  async consume(batch: Batch): Promise<void> {
    if (batch.signal !== 'traces') return this.settings.next.consume(batch);
    const result = batch.analysisFor<GroupResult>(this.settings.id) ?? await this.group(batch);
    // The batch's current bytes: detection's marked copy when it ran before, which the summaries describe.
    const bytes = batch.toBytes();
    const slices = groupSpansByTrace(bytes);
    const { late, early } = this.buffer.add(result, slices, Date.now());
    if (this.settings.config.compress_held_batches) await this.hold(bytes, slices);
    this.send(early);
    // Late spans of a sampled trace go on with this request, so a refusal reaches its sender.
    for (const output of this.batches(late)) await this.settings.next.consume(output);
  }

  /**
   * Deflates a batch off the event loop and points its span groups at the deflated copy, so the
   * bytes of the request are freed. Groups already passed on are not affected; if deflating fails,
   * the groups keep the bytes.
   */
  private async hold(bytes: Uint8Array, slices: Map<string, SpanGroup[]>): Promise<void> {
    this.deflatingBytes += bytes.byteLength;
    const deflating = new Promise<void>((done) => {
      deflateRaw(bytes, { level: DEFLATE_LEVEL }, (error, deflated) => {
        this.deflating.delete(deflating);
        this.deflatingBytes -= bytes.byteLength;
        done();
        if (error || deflated.byteLength > bytes.byteLength * MAX_DEFLATED_SHARE) return;
        // zlib returns a view of its 16 KiB output chunk when the result fits in one. A copy of the
        // exact size frees the rest of the chunk, half of the held memory on the benchmark.
        const held = new DeflatedRequest(deflated.byteLength < deflated.buffer.byteLength ? new Uint8Array(deflated) : deflated, bytes.byteLength, this.inflated);
        for (const groups of slices.values()) {
          for (const group of groups) if (group.source === bytes) group.source = held;
        }
      });
    });
    this.deflating.add(deflating);
    // zlib's thread pool can fall behind the receivers on large batches. Waiting here bounds the
    // bytes queued for it and passes the delay on to the sender.
    while (this.deflatingBytes > MAX_DEFLATING_BYTES && this.deflating.size > 0) await Promise.race(this.deflating);
  }

  private group(batch: OtlpBatch): Promise<GroupResult> {
    const task: GroupTask = { bytes: batch.toBytes(), options: this.predicates.options };
    return this.settings.pool.run<GroupResult>('tail_sampling.group', task);
  }

  /**
   * Queues released spans to be passed on in the background, one batch at a time, so a large
   * release is not copied into batches all at once. What the next consumer refuses is counted as lost.
   */
  private send(released: Released): void {
    if (released.groups.length === 0) return;
    this.outbox.push(released);
    if (!this.pump) {
      const pump = this.drain().finally(() => {
        if (this.pump === pump) this.pump = undefined;
      });
      this.pump = pump;
      this.inFlight.add(pump);
      void pump.finally(() => this.inFlight.delete(pump));
    }
  }

  private async drain(): Promise<void> {
    for (let released = this.outbox.shift(); released; released = this.outbox.shift()) {
      for (const output of this.batches(released)) {
        try {
          await this.settings.next.consume(output);
        } catch (error) {
          this.settings.metrics.processorDropped.add({ processor: this.settings.id, signal: 'traces', reason: 'downstream_refused' }, output.itemCount);
          this.dropLog.record('downstream_refused', output.itemCount, error);
        }
      }
    }
  }

  private *batches(released: Released): Generator<OtlpBatch> {
    let groups: SpanGroup[] = [];
    let spans = 0;
    let bytes = 0;
    const origin = { receiver: this.settings.id };
    for (const group of released.groups) {
      groups.push(group);
      spans += group.count;
      bytes += spanBytes(group);
      if (spans >= MAX_SPANS_PER_OUTPUT || bytes >= MAX_BYTES_PER_OUTPUT) {
        yield this.output(groups, spans, origin);
        groups = [];
        spans = 0;
        bytes = 0;
      }
    }
    if (groups.length > 0) yield this.output(groups, spans, origin);
  }

  private output(groups: SpanGroup[], spans: number, origin: { receiver: string }): OtlpBatch {
    this.settings.metrics.processorOutgoing.add({ processor: this.settings.id, signal: 'traces' }, spans);
    return OtlpBatch.fromBytes('traces', encodeSpanGroups(groups), spans, origin);
  }

  private countDecision(decision: Decision): void {
    const id = this.settings.id;
    this.metrics.traces.add({ processor: id, decision: decision.sampled ? 'sampled' : 'not_sampled', policy: decision.policy ?? '' });
    if (decision.early) this.metrics.early.add({ processor: id, reason: decision.early });
  }
}

export const tailSamplingFactory: ProcessorFactory<TailSamplingConfig> = {
  kind: 'processor',
  type: 'tail_sampling',
  description: 'Holds spans per trace for decision_wait and keeps whole traces by policy, including every trace of an attack.',
  signals: ['traces'],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  workerModules: [WORKER_MODULE],
  workerStage(id, config): StageSpec {
    return { id, kind: 'tail_sampling', module: WORKER_MODULE, options: predicatesFor(config).options };
  },
  create: (settings) => new TailSamplingProcessor(settings),
};
