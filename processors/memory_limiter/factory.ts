import type { Host, Processor, ProcessorFactory, ProcessorSettings, SharedComponent, SharedSettings } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { retryableError, type WatchpostError } from '../../core/errors.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import { createDefaultConfig, schema, validateConfig, type MemoryLimiterConfig } from './config.js';
import { MemoryLimiter } from './limiter.js';
import { forcedGc, limitsFor, liveMemoryEstimator, residentSetSize } from './memory.js';

/** The one limiter of a memory_limiter id; it runs the checks, and every pipeline's processor consults it. */
class MemoryLimiterShared implements SharedComponent<MemoryLimiterShared> {
  readonly value = this;
  readonly limiter: MemoryLimiter;
  readonly retryAfterSeconds: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly settings: SharedSettings<MemoryLimiterConfig>) {
    const { config, metrics, id } = settings;
    const registry = metrics.registry;
    const rssGauge = registry.gauge('watchpost_memory_limiter_rss_bytes', 'Resident set size at the last check of the memory limiter.');
    const refusingGauge = registry.gauge('watchpost_memory_limiter_refusing', '1 while the memory limiter makes receivers refuse data, else 0.');
    const collections = registry.counter('watchpost_memory_limiter_forced_gc_total', 'Garbage collections the memory limiter forced.');
    const limits = limitsFor(config);
    registry.gauge('watchpost_memory_limiter_limit_bytes', 'The memory limiter\'s limits, by kind.').set({ processor: id, limit: 'hard' }, limits.hard);
    registry.gauge('watchpost_memory_limiter_limit_bytes', 'The memory limiter\'s limits, by kind.').set({ processor: id, limit: 'soft' }, limits.soft);
    this.retryAfterSeconds = Math.max(1, Math.ceil(config.check_interval / 1000));
    this.limiter = new MemoryLimiter(id, limits, settings.admission, this.retryAfterSeconds, settings.logger, {
      measure: residentSetSize,
      live: liveMemoryEstimator(),
      collect: forcedGc(),
      now: Date.now,
      checked: (rss, refusing, collected) => {
        rssGauge.set({ processor: id }, rss);
        refusingGauge.set({ processor: id }, refusing ? 1 : 0);
        if (collected) collections.add({ processor: id });
      },
    });
  }

  async start(_host: Host): Promise<void> {
    this.limiter.check();
    this.timer = setInterval(() => this.limiter.check(), this.settings.config.check_interval);
    this.timer.unref();
    this.settings.logger.info({ hard_limit_mib: Math.round(this.limiter.limits.hard / 1048576), soft_limit_mib: Math.round(this.limiter.limits.soft / 1048576) }, 'memory limiter started');
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.limiter.release();
  }
}

/** Refuses batches while the limiter refuses, with the same retryable error receivers give before reading. */
class MemoryLimiterProcessor implements Processor {
  private readonly refused: Counter;

  constructor(private readonly settings: ProcessorSettings<MemoryLimiterConfig, MemoryLimiterShared>) {
    this.refused = settings.metrics.registry.counter('watchpost_memory_limiter_refused_items_total', 'Items the memory_limiter processor refused in a pipeline; their senders were told to retry.');
  }

  async start(_host: Host): Promise<void> {}

  async shutdown(): Promise<void> {}

  async consume(batch: Batch): Promise<void> {
    const { settings } = this;
    if (settings.shared.limiter.refusing && !settings.admission.draining) {
      this.refused.add({ processor: settings.id, signal: batch.signal }, batch.itemCount);
      const error: WatchpostError & { retryAfterSeconds?: number } = retryableError('WP_ERR_RECEIVER_OVERLOADED', `refusing data: memory is above the soft limit of the ${settings.id} processor; retry later`);
      error.retryAfterSeconds = settings.shared.retryAfterSeconds;
      throw error;
    }
    await settings.next.consume(batch);
  }
}

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig, MemoryLimiterShared> = {
  kind: 'processor',
  type: 'memory_limiter',
  description: 'Makes receivers refuse data while resident memory is above a soft limit, and forces a collection above the hard one.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  createShared: (settings) => new MemoryLimiterShared(settings),
  create: (settings) => new MemoryLimiterProcessor(settings),
};
