import type { Logger } from './logger.js';
import type { Batch } from './data/batch.js';
import type { Signal } from './data/signal.js';
import type { Schema } from './config/schema.js';
import type { ConfigIssue } from './config/node.js';
import type { PipelineMetrics } from './telemetry/metrics.js';
import type { ParserSpec, WorkerPool, StageSpec } from './pool/pool.js';
import type { Storage } from './storage/storage.js';
import type { AdminServer } from './admin/server.js';
import type { Admission } from './admission.js';
import type { FindingsBus } from './findings-bus.js';

/**
 * The lifecycle every component follows.
 *
 * `start` is called once, exporters first, then processors, then receivers, so that nothing
 * receives data before its downstream can take it. `shutdown` runs in the reverse order: a
 * receiver first stops accepting input, then everything flushes what it holds. `shutdown` must
 * be safe to call twice, and before `start` or after a failed `start`.
 */
export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

/** Something that takes batches: a processor, an exporter, or the fan-out in front of them. */
export interface Consumer {
  /**
   * Takes a batch. Resolving means the batch was accepted downstream (queued by every exporter);
   * rejecting passes the error back to the receiver, which answers its sender with it.
   */
  consume(batch: Batch): Promise<void>;
}

/** The entry of the pipelines fed by one receiver for one signal. */
export interface PipelineInput extends Consumer {
  /** Worker-pool stages the downstream processors want run on every batch, such as detection. */
  readonly workerStages: StageSpec[];
}

export type ComponentStatus = 'ok' | 'degraded' | 'failing';

/** What a running component can reach of the service around it. */
export interface Host {
  readonly admin: AdminServer;
  /** Findings as detection emits them, for components that react outside the findings pipelines. */
  readonly findingsBus: FindingsBus;
  /** Reports the component's health; `/healthz` is unhealthy while any component is `failing`. */
  reportStatus(id: string, status: ComponentStatus, message?: string): void;
}

export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

export interface CreateSettings<C> {
  /** The component id as written in the config: `type` or `type/name`. */
  id: string;
  config: C;
  logger: Logger;
  metrics: PipelineMetrics;
  pool: WorkerPool;
  storage: Storage;
  /** Admission control: receivers check it before reading; the memory limiter drives it. */
  admission: Admission;
}

export interface ReceiverSettings<C> extends CreateSettings<C> {
  /** One input per signal that a pipeline takes from this receiver. */
  consumers: Partial<Record<Signal, PipelineInput>>;
}

export interface ProcessorSettings<C, S = unknown> extends CreateSettings<C> {
  signal: Signal;
  /** The pipeline id, such as `traces` or `logs/edge`. */
  pipeline: string;
  next: Consumer;
  /** The object `createShared` returned for this processor id, shared by all its pipelines. */
  shared: S;
}

export interface SharedSettings<C> extends CreateSettings<C> {
  /** For each signal the processor emits, the pipelines of that signal that list it as a receiver. */
  outputs: Partial<Record<Signal, Consumer>>;
}

export type Processor = Component & Consumer;
export type Exporter = Component & Consumer;

interface FactoryBase<C> {
  readonly kind: ComponentKind;
  /** The type name used in component ids, `lower_snake_case`. */
  readonly type: string;
  /** One line for `watchpost components`. */
  readonly description: string;
  /** The signals this component can take or produce. */
  readonly signals: readonly Signal[];
  /** Validates the user's part of the config; defaults fill in the rest. */
  readonly schema: Schema<unknown>;
  /** The one source of default values. */
  createDefaultConfig(): C;
  /** Cross-field checks on the merged config, reported against the component's node. */
  validate?(config: C, report: (message: string, path?: string) => void): void;
  /** Modules the worker pool loads for this component (parsers or stages), as file URLs. */
  readonly workerModules?: readonly string[];
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  /** Line parsers this receiver wants set up in every worker, addressed by `ParserSpec.id`. */
  parsers?(id: string, config: C): ParserSpec[];
  /** Formats this receiver parses, for `watchpost parse` and `watchpost replay --format`. */
  readonly lineFormats?: readonly string[];
  /**
   * The parser of one format for the CLI. `options` are the format's options as text
   * (`--option key=value`); an unknown key or an invalid value throws an Error that names it.
   */
  parserForFormat?(id: string, format: string, options?: Readonly<Record<string, string>>): ParserSpec;
  create(settings: ReceiverSettings<C>): Component;
}

export interface ProcessorFactory<C = unknown, S = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  /**
   * Signals this processor produces for pipelines that list it under `receivers`, as a
   * Collector connector does: `detection` emits findings. Requires `createShared`.
   */
  readonly emits?: readonly Signal[];
  /** Creates the state shared by every pipeline that uses this processor id. */
  createShared?(settings: SharedSettings<C>): SharedComponent<S>;
  /** The worker-pool stage this processor wants run on incoming data, if any. */
  workerStage?(id: string, config: C): StageSpec | undefined;
  create(settings: ProcessorSettings<C, S>): Processor;
}

export interface SharedComponent<S> extends Component {
  readonly value: S;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  create(settings: CreateSettings<C>): Exporter;
}

export interface ExtensionFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'extension';
  create(settings: CreateSettings<C>): Component;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;

export type { ConfigIssue };
