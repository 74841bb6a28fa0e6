import type { Component, Exporter, Host } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import type { Logger } from '../../core/logger.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';
import { errorMessage, isRetryable, retryableError } from '../../core/errors.js';
import type { ExporterHelperConfig } from './config.js';
import { SendError } from './errors.js';

export type SendFunction = (batch: Batch, signal: AbortSignal) => Promise<void>;

export interface QueuedExporterOptions {
  id: string;
  config: ExporterHelperConfig;
  logger: Logger;
  metrics: PipelineMetrics;
  send: SendFunction;
  /** Called by start, for exporters that connect or open files. */
  onStart?: (host: Host) => Promise<void>;
  /** Called by shutdown after the queue drained, to close connections. */
  onShutdown?: () => Promise<void>;
}

/**
 * The delivery machinery every exporter shares: a bounded queue, consumers that send with a
 * per-attempt timeout, retries with exponential backoff and jitter that honour Retry-After, and
 * the split between permanent errors (dropped and counted) and retryable ones.
 *
 * Each exporter has its own queue, so a dead endpoint fills only its own queue and never delays
 * the others. When the queue is full, consume() fails with a retryable error, which the receiver
 * passes to its sender as "try again later".
 */
export class QueuedExporter implements Exporter, Component {
  private readonly queue: Batch[] = [];
  private readonly waiters: (() => void)[] = [];
  private readonly workers: Promise<void>[] = [];
  private readonly stopController = new AbortController();
  private accepting = false;
  private stopped = false;
  private readonly dropLog: DropLog;

  constructor(private readonly options: QueuedExporterOptions) {
    const labels = { exporter: options.id };
    options.metrics.exporterQueueSize.track(labels, () => this.queue.length);
    options.metrics.exporterQueueCapacity.set(labels, options.config.sending_queue.queue_size);
    this.dropLog = new DropLog(options.logger);
  }

  async start(host: Host): Promise<void> {
    await this.options.onStart?.(host);
    this.accepting = true;
    if (this.options.config.sending_queue.enabled) {
      for (let i = 0; i < this.options.config.sending_queue.num_consumers; i++) this.workers.push(this.work());
    }
  }

  async consume(batch: Batch): Promise<void> {
    if (!this.accepting) throw retryableError('WP_ERR_SHUTTING_DOWN', `exporter ${this.options.id} is not running`);
    if (!this.options.config.sending_queue.enabled) {
      await this.deliver(batch);
      return;
    }
    if (this.queue.length >= this.options.config.sending_queue.queue_size) {
      this.options.metrics.exporterEnqueueFailed.add({ exporter: this.options.id, signal: batch.signal }, batch.itemCount);
      this.dropLog.record('queue_full', batch.itemCount);
      throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', `exporter ${this.options.id}: sending queue is full (${this.options.config.sending_queue.queue_size} batches)`);
    }
    this.queue.push(batch);
    this.waiters.shift()?.();
  }

  /** Stops taking batches, drains the queue, then closes. Safe to call twice or before start. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.accepting = false;
    // Aborting ends retry waits; each batch still queued then gets one more attempt.
    this.stopController.abort();
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.all(this.workers);
    this.dropLog.flush();
    await this.options.onShutdown?.();
  }

  private async work(): Promise<void> {
    for (;;) {
      const batch = this.queue.shift();
      if (batch) {
        await this.deliver(batch);
        continue;
      }
      if (!this.accepting) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Sends one batch, retrying retryable failures until max_elapsed_time; never throws when queued. */
  private async deliver(batch: Batch): Promise<void> {
    const retry = this.options.config.retry_on_failure;
    const labels = { exporter: this.options.id, signal: batch.signal };
    const startedAt = Date.now();
    let interval = retry.initial_interval;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attempt(batch);
        this.options.metrics.exporterSent.add(labels, batch.itemCount);
        return;
      } catch (error) {
        const retryable = isRetryable(error);
        const elapsed = Date.now() - startedAt;
        const wait = nextWait(interval, retry.randomization_factor, error);
        const outOfTime = retry.max_elapsed_time > 0 && elapsed + wait > retry.max_elapsed_time;
        if (!retryable || !retry.enabled || outOfTime || this.stopController.signal.aborted) {
          this.options.metrics.exporterSendFailed.add(labels, batch.itemCount);
          this.dropLog.record(retryable ? 'retries_exhausted' : 'permanent_error', batch.itemCount, error);
          if (!this.options.config.sending_queue.enabled) throw error;
          return;
        }
        this.options.logger.warn({ err: errorMessage(error), attempt, wait_ms: Math.round(wait) }, 'send failed; will retry');
        await sleep(wait, this.stopController.signal);
        interval = Math.min(interval * retry.multiplier, retry.max_interval);
      }
    }
  }

  private async attempt(batch: Batch): Promise<void> {
    const timeout = this.options.config.timeout;
    const controller = new AbortController();
    const timer = timeout > 0 ? setTimeout(() => controller.abort(new Error(`timed out after ${timeout} ms`)), timeout) : undefined;
    try {
      await this.options.send(batch, controller.signal);
    } catch (error) {
      if (controller.signal.aborted && !(error instanceof SendError)) {
        throw new SendError(`timed out after ${timeout} ms`, { retryable: true, cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

function nextWait(interval: number, randomization: number, error: unknown): number {
  const retryAfter = error instanceof SendError ? error.retryAfterMs : undefined;
  const jittered = interval * (1 - randomization + Math.random() * 2 * randomization);
  return retryAfter ?? jittered;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * Logs dropped data once when drops start and then at most once a minute with the total since
 * the last line, never once per batch.
 */
class DropLog {
  private pending = new Map<string, number>();
  private lastLog = 0;
  private lastError = '';

  constructor(private readonly logger: Logger) {}

  record(reason: string, items: number, error?: unknown): void {
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + items);
    if (error !== undefined) this.lastError = errorMessage(error);
    if (Date.now() - this.lastLog >= 60_000) this.flush();
  }

  flush(): void {
    if (this.pending.size === 0) return;
    const dropped = Object.fromEntries(this.pending);
    this.logger.error({ dropped, last_error: this.lastError || undefined }, 'exporter dropped data');
    this.pending = new Map();
    this.lastLog = Date.now();
  }
}
