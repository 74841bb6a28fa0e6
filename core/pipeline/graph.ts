import type {
  Component, Consumer, CreateSettings, ExporterFactory, PipelineInput, ProcessorFactory, ReceiverFactory, SharedComponent,
} from '../component.js';
import type { ComponentConfig, PipelineConfig, ServiceConfig } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { Batch } from '../data/batch.js';
import type { Signal } from '../data/signal.js';
import type { PipelineMetrics } from '../telemetry/metrics.js';
import type { ParserSpec, StageSpec, WorkerPool } from '../pool/pool.js';
import type { Storage } from '../storage/storage.js';
import type { Admission } from '../admission.js';
import { FanoutConsumer, PipelineEntry } from './fanout.js';

export interface GraphContext {
  logger: Logger;
  metrics: PipelineMetrics;
  pool: WorkerPool;
  storage: Storage;
  admission: Admission;
}

/** One built component; `PipelineGraph.nodes` lists them in start order. */
export interface GraphNode {
  kind: 'exporter' | 'shared' | 'processor' | 'receiver';
  id: string;
  /** The pipeline, for processors, which exist once per pipeline. */
  pipeline?: string;
  component: Component;
}

/**
 * The running shape of a config: exporters, then processors per pipeline, then receivers.
 * Processors exist once per pipeline, as in the Collector; state that must not split, such as a
 * detection processor's windows, lives in the shared component created once per processor id.
 */
export interface PipelineGraph {
  nodes: GraphNode[];
}

/** The worker stages and line parsers the config needs, known before any component exists. */
export function collectWorkerSpecs(config: ServiceConfig): { stages: StageSpec[]; parsers: ParserSpec[]; modules: string[] } {
  const stages: StageSpec[] = [];
  const modules = new Set<string>();
  for (const id of usedIds(config, 'processors')) {
    const component = config.processors.get(id) as ComponentConfig;
    const factory = component.factory as ProcessorFactory;
    factory.workerModules?.forEach((module) => modules.add(module));
    const stage = factory.workerStage?.(id, component.config);
    if (stage) stages.push(stage);
  }
  const parsers: ParserSpec[] = [];
  for (const id of usedIds(config, 'receivers')) {
    const component = config.receivers.get(id) as ComponentConfig;
    component.factory.workerModules?.forEach((module) => modules.add(module));
    const parserSpecs = (component.factory as ReceiverFactory).parsers?.(id, component.config);
    if (parserSpecs) parsers.push(...parserSpecs);
  }
  return { stages, parsers, modules: [...modules] };
}

/** Ids of the components of a section that some pipeline uses; unused ones are never created. */
function usedIds(config: ServiceConfig, section: 'receivers' | 'processors' | 'exporters'): string[] {
  const ids = new Set<string>();
  for (const pipeline of config.pipelines.values()) {
    for (const id of pipeline[section]) {
      if (config[section].has(id)) ids.add(id);
    }
  }
  return [...ids];
}

export function buildGraph(config: ServiceConfig, context: GraphContext): PipelineGraph {
  const nodes: GraphNode[] = [];
  const settingsFor = <C>(kind: string, id: string, component: ComponentConfig): CreateSettings<C> => ({
    id,
    config: component.config as C,
    logger: context.logger.child({ component: kind, id }),
    metrics: context.metrics,
    pool: context.pool,
    storage: context.storage,
    admission: context.admission,
  });

  const exporters = new Map<string, Consumer>();
  for (const id of usedIds(config, 'exporters')) {
    const component = config.exporters.get(id) as ComponentConfig;
    const exporter = (component.factory as ExporterFactory).create(settingsFor('exporter', id, component));
    exporters.set(id, exporter);
    nodes.push({ kind: 'exporter', id, component: exporter });
  }

  const pipelines = [...config.pipelines.values()];
  const findingsPipelines = pipelines.filter((pipeline) => pipeline.signal === 'findings');
  const telemetryPipelines = pipelines.filter((pipeline) => pipeline.signal !== 'findings');
  // Findings processors start before the shared detection state and stop after it, so findings
  // flushed at shutdown still have somewhere to go.
  const findingsProcessorNodes: GraphNode[] = [];
  const processorNodes: GraphNode[] = [];
  const shared = new Map<string, SharedComponent<unknown>>();

  const buildChain = (pipeline: PipelineConfig, processorNodes: GraphNode[]): Consumer => {
    let next: Consumer = new FanoutConsumer(pipeline.exporters.map((id) => exporters.get(id) as Consumer), false);
    for (const id of [...pipeline.processors].reverse()) {
      const component = config.processors.get(id) as ComponentConfig;
      const factory = component.factory as ProcessorFactory;
      const processor = factory.create({
        ...settingsFor('processor', id, component),
        signal: pipeline.signal,
        pipeline: pipeline.id,
        next,
        shared: sharedFor(id)?.value,
      });
      processorNodes.push({ kind: 'processor', id, pipeline: pipeline.id, component: processor });
      next = countingConsumer(processor, id, pipeline.signal, context.metrics);
    }
    return next;
  };

  const findingsEntries = new Map<string, Consumer[]>();
  const sharedNodes: GraphNode[] = [];
  const sharedFor = (id: string): SharedComponent<unknown> | undefined => {
    if (shared.has(id)) return shared.get(id);
    const component = config.processors.get(id) as ComponentConfig;
    const factory = component.factory as ProcessorFactory;
    if (!factory.createShared) return undefined;
    const outputs = findingsEntries.get(id);
    const created = factory.createShared({
      ...settingsFor('processor', id, component),
      findings: outputs ? new FanoutConsumer(outputs, true) : undefined,
    });
    shared.set(id, created);
    sharedNodes.push({ kind: 'shared', id, component: created });
    return created;
  };

  // Findings pipelines come first: their entries are the findings outputs of detection processors.
  for (const pipeline of findingsPipelines) {
    const entry = buildChain(pipeline, findingsProcessorNodes);
    for (const source of pipeline.receivers) findingsEntries.set(source, [...(findingsEntries.get(source) ?? []), entry]);
  }

  const entries = new Map<string, { consumer: Consumer; stages: StageSpec[] }>();
  for (const pipeline of telemetryPipelines) {
    const consumer = buildChain(pipeline, processorNodes);
    const stages: StageSpec[] = [];
    for (const id of pipeline.processors) {
      const component = config.processors.get(id) as ComponentConfig;
      const stage = (component.factory as ProcessorFactory).workerStage?.(id, component.config);
      if (stage) stages.push(stage);
    }
    entries.set(pipeline.id, { consumer, stages });
  }
  nodes.push(...findingsProcessorNodes, ...sharedNodes, ...processorNodes);

  for (const id of usedIds(config, 'receivers')) {
    const component = config.receivers.get(id) as ComponentConfig;
    const consumers: Partial<Record<Signal, PipelineInput>> = {};
    for (const signal of component.factory.signals) {
      const fed = telemetryPipelines.filter((pipeline) => pipeline.signal === signal && pipeline.receivers.includes(id));
      if (fed.length === 0) continue;
      const stages = uniqueStages(fed.flatMap((pipeline) => entries.get(pipeline.id)?.stages ?? []));
      consumers[signal] = new PipelineEntry(fed.map((pipeline) => entries.get(pipeline.id)?.consumer as Consumer), stages);
    }
    const receiver = (component.factory as ReceiverFactory).create({ ...settingsFor('receiver', id, component), consumers });
    nodes.push({ kind: 'receiver', id, component: receiver });
  }
  return { nodes };
}

function uniqueStages(stages: StageSpec[]): StageSpec[] {
  const byId = new Map(stages.map((stage) => [stage.id, stage]));
  return [...byId.values()];
}

/** Wraps a processor to count what enters it. */
function countingConsumer(processor: Consumer, id: string, signal: Signal, metrics: PipelineMetrics): Consumer {
  return {
    consume(batch: Batch): Promise<void> {
      metrics.processorIncoming.add({ processor: id, signal }, batch.itemCount);
      return processor.consume(batch);
    },
  };
}
