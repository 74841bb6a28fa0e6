import type { Host, Processor, ProcessorFactory, ProcessorSettings } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import type { Counter } from '../../../core/telemetry/metrics.js';
import { createDefaultConfig, schema, type ProbabilisticSamplerConfig } from './config.js';
import type { SampleResult, SampleTask } from './worker.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/**
 * Keeps a share of traces and log records chosen by hashing their trace id (or a record
 * attribute), so every span of a kept trace is kept on every Watchpost and Collector that shares
 * the seed. The work runs in the worker pool: the batch is decoded, filtered and re-encoded there.
 */
class ProbabilisticSampler implements Processor {
  private readonly sampled: Counter;

  constructor(private readonly settings: ProcessorSettings<ProbabilisticSamplerConfig>) {
    this.sampled = settings.metrics.registry.counter('watchpost_sampler_items_total', 'Items a sampler decided on, by policy and whether it kept them.');
  }

  async start(_host: Host): Promise<void> {}

  async shutdown(): Promise<void> {}

  async consume(batch: Batch): Promise<void> {
    const { settings } = this;
    if (batch.signal !== 'traces' && batch.signal !== 'logs') return settings.next.consume(batch);
    const task: SampleTask = { signal: batch.signal, bytes: batch.toBytes(), config: settings.config };
    const result = await settings.pool.run<SampleResult>('probabilistic_sampler', task);
    for (const [key, items] of Object.entries(result.byPolicy)) {
      const [policy, sampled] = key.split('/');
      this.sampled.add({ processor: settings.id, signal: batch.signal, policy, sampled }, items);
    }
    if (result.kept === 0) return;
    if (result.bytes) batch.replaceBytes(result.bytes, result.kept);
    settings.metrics.processorOutgoing.add({ processor: settings.id, signal: batch.signal }, batch.itemCount);
    await settings.next.consume(batch);
  }
}

export const probabilisticSamplerFactory: ProcessorFactory<ProbabilisticSamplerConfig> = {
  kind: 'processor',
  type: 'probabilistic_sampler',
  description: 'Keeps a percentage of traces and logs by trace-id hash, with the same decisions as the Collector in hash_seed mode.',
  signals: ['traces', 'logs'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  create: (settings) => new ProbabilisticSampler(settings),
};
