import type { Host, Processor, ProcessorFactory, ProcessorSettings } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { Batcher } from './batcher.js';
import { createDefaultConfig, schema, validateConfig, type BatchConfig } from './config.js';

const SEND_SIZE_BOUNDS = [10, 100, 1000, 5000, 10_000, 50_000, 100_000];

class BatchProcessor implements Processor {
  private readonly batcher: Batcher;

  constructor(settings: ProcessorSettings<BatchConfig>) {
    const registry = settings.metrics.registry;
    const flushes = registry.counter('watchpost_batch_sends_total', 'Batches the batch processor sent, by what triggered the send.');
    const sizes = registry.histogram('watchpost_batch_send_size_items', 'Items per batch the batch processor sent.', SEND_SIZE_BOUNDS);
    const labels = { processor: settings.id, pipeline: settings.pipeline };
    this.batcher = new Batcher(settings.config, settings.signal, settings.next, {
      flushed: (trigger, items) => {
        flushes.add({ ...labels, trigger });
        sizes.observe(labels, items);
        settings.metrics.processorOutgoing.add({ processor: settings.id, signal: settings.signal }, items);
      },
    });
  }

  async start(_host: Host): Promise<void> {}

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }

  consume(batch: Batch): Promise<void> {
    return this.batcher.consume(batch);
  }
}

export const batchProcessorFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  description: 'Joins batches by item count, bytes and time; callers wait until their data was accepted downstream.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  create: (settings) => new BatchProcessor(settings),
};
