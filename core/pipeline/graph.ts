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
 * A processor that emits a signal (detection emits findings) also feeds the pipelines of that
 * signal which list it under `receivers`, as the Collector's connectors do.
 */
export interface PipelineGraph {
  nodes: GraphNode[];
}

/** Collects the worker stages, line parsers and worker modules the config needs, before any component exists. */
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
  for (const id of usedIds(config, 'exporters')) {
    (config.exporters.get(id) as ComponentConfig).factory.workerModules?.forEach((module) => modules.add(module));
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
  const shared = new Map<string, SharedComponent<unknown> | undefined>();
  const entries = new Map<string, Consumer>();
  // Nodes in start order. A pipeline fed by a connector (a processor that emits a signal, such as
  // detection's findings) is built while its connector is created, so its processors come before
  // the connector's shared state: they start earlier and stop later, and what the connector
  // flushes at shutdown still has somewhere to go.
  const ordered: GraphNode[] = [];

  const entryFor = (pipeline: PipelineConfig): Consumer => {
    const existing = entries.get(pipeline.id);
    if (existing) return existing;
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
      ordered.push({ kind: 'processor', id, pipeline: pipeline.id, component: processor });
      next = countingConsumer(processor, id, pipeline.signal, context.metrics);
    }
    entries.set(pipeline.id, next);
    return next;
  };

  const sharedFor = (id: string): SharedComponent<unknown> | undefined => {
    if (shared.has(id)) return shared.get(id);
    const component = config.processors.get(id) as ComponentConfig;
    const factory = component.factory as ProcessorFactory;
    shared.set(id, undefined);
    if (!factory.createShared) return undefined;
    const outputs: Partial<Record<Signal, Consumer>> = {};
    for (const signal of factory.emits ?? []) {
      const fed = pipelines.filter((pipeline) => pipeline.signal === signal && pipeline.receivers.includes(id));
      if (fed.length > 0) outputs[signal] = new FanoutConsumer(fed.map(entryFor), true);
    }
    const created = factory.createShared({ ...settingsFor('processor', id, component), outputs });
    shared.set(id, created);
    ordered.push({ kind: 'shared', id, component: created });
    return created;
  };

  const stagesOf = (pipeline: PipelineConfig): StageSpec[] => pipeline.processors.flatMap((id) => {
    const component = config.processors.get(id) as ComponentConfig;
    const stage = (component.factory as ProcessorFactory).workerStage?.(id, component.config);
    return stage ? [stage] : [];
  });

  for (const pipeline of pipelines) entryFor(pipeline);
  nodes.push(...ordered);

  for (const id of usedIds(config, 'receivers')) {
    const component = config.receivers.get(id) as ComponentConfig;
    const consumers: Partial<Record<Signal, PipelineInput>> = {};
    for (const signal of component.factory.signals) {
      const fed = pipelines.filter((pipeline) => pipeline.signal === signal && pipeline.receivers.includes(id));
      if (fed.length === 0) continue;
      consumers[signal] = new PipelineEntry(fed.map(entryFor), uniqueStages(fed.flatMap(stagesOf)));
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
