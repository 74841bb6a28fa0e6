import type { Component, ComponentStatus, Exporter, Host } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import type { Logger } from '../../core/logger.js';
import type { Storage } from '../../core/storage/storage.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';
import { errorMessage, retryableError } from '../../core/errors.js';
import type { ExporterHelperConfig } from './config.js';
import { batchBytes, mergeBatches, splitBatch } from './batches.js';
import { DropLog, ThrottledWarning } from './drop-log.js';
import { SendError } from './errors.js';
import { exporterMetrics, type ExporterMetrics } from './metrics.js';
import { MemoryQueue, PersistentQueue, QueueFullError, type BatchQueue, type QueueEntry } from './queue.js';
import { attemptWithTimeout, Backoff, sleep, type GiveUpReason } from './retry.js';

/** Callbacks a send function uses to report partial results. */
export interface SendContext {
  /**
   * Records items of the batch that failed for good while the rest succeeded, such as
   * Elasticsearch documents rejected with status 400. They are counted as dropped, not as sent.
   */
  drop(items: number, reason: string, error?: unknown): void;
}

export type SendFunction = (batch: Batch, signal: AbortSignal, context: SendContext) => Promise<void>;

/** The part of a batch a hook keeps, and how many items it removed and why. */
export interface Trimmed {
  batch: Batch | undefined;
  removed: number;
  reason: string;
}

export interface QueuedExporterOptions {
  id: string;
  config: ExporterHelperConfig;
  logger: Logger;
  metrics: PipelineMetrics;
  /** The daemon's lmdb storage; required when `sending_queue.storage` is `lmdb`. */
  storage?: Storage;
  send: SendFunction;
  /**
   * Runs in consume() before the batch is queued and returns what this exporter sends of it,
   * such as the findings at or above a minimum severity. Removed items are counted as filtered,
   * not as dropped.
   */
  accept?: (batch: Batch) => Trimmed;
  /**
   * Runs once per request before its first attempt, such as a rate limiter. Removed items are
   * counted as dropped under the returned reason.
   */
  beforeSend?: (batch: Batch) => Trimmed;
  /** Bytes of a batch as this exporter encodes it, for `sending_queue.batch.max_bytes`. */
  sizer?: (batch: Batch) => number;
  /** Called by start, for exporters that connect or open files. */
  onStart?: (host: Host) => Promise<void>;
  /** Called by shutdown after the queue stopped, to close connections. */
  onShutdown?: () => Promise<void>;
  /** Waits between attempts; tests replace it to observe the waits without spending them. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

type DeliveryOutcome = { status: 'delivered' } | { status: 'dropped' | 'kept'; error: unknown };

/**
 * The delivery machinery every exporter shares: a bounded queue (in memory or in lmdb),
 * consumers that merge queued batches into requests, a per-attempt timeout, retries with
 * exponential backoff and jitter that honour Retry-After, and the split between permanent errors
 * (dropped, counted, logged once with the count) and retryable ones.
 *
 * Each exporter has its own queue and consumers, so a dead endpoint fills only its own queue and
 * never delays the others. When the queue is full, consume() fails with a retryable error, which
 * the receiver passes to its sender as "try again later".
 */
export class QueuedExporter implements Exporter, Component {
  private queue: BatchQueue | undefined;
  private host: Host | undefined;
  private accepting = false;
  private stopping = false;
  private stopped = false;
  private dispatching: Promise<void> | undefined;
  private readonly tasks = new Set<Promise<void>>();
  private readonly slots: Slots;
  private readonly stopController = new AbortController();
  private readonly dropLog: DropLog;
  private readonly retryWarning: ThrottledWarning;
  private readonly metrics: ExporterMetrics;
  private queueWarned = false;
  private health: ComponentStatus = 'ok';

  constructor(private readonly options: QueuedExporterOptions) {
    this.metrics = exporterMetrics(options.metrics, options.id);
    this.metrics.trackQueue(() => this.queue?.size() ?? 0, options.config.sending_queue.queue_size);
    this.dropLog = new DropLog(options.logger);
    this.retryWarning = new ThrottledWarning(options.logger);
    this.slots = new Slots(options.config.sending_queue.num_consumers);
  }

  private get persistent(): boolean {
    return this.options.config.sending_queue.storage === 'lmdb';
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    await this.options.onStart?.(host);
    const queueConfig = this.options.config.sending_queue;
    if (queueConfig.enabled) {
      this.queue = this.persistent ? this.openPersistentQueue() : new MemoryQueue(queueConfig.queue_size);
      this.dispatching = this.dispatch(this.queue);
    }
    this.accepting = true;
  }

  async consume(batch: Batch): Promise<void> {
    if (!this.accepting) throw retryableError('WP_ERR_SHUTTING_DOWN', `exporter ${this.options.id} is not running`);
    const accepted = this.trim(batch, this.options.accept, (removed) => this.metrics.filtered(batch.signal, removed));
    if (!accepted) return;
    if (!this.queue) {
      const outcome = await this.deliver(accepted);
      if (outcome.status !== 'delivered') throw outcome.error;
      return;
    }
    try {
      await this.queue.push(accepted);
    } catch (error) {
      this.metrics.enqueueFailed(accepted.signal, accepted.itemCount);
      if (error instanceof QueueFullError) {
        // Not a drop: the caller gets a retryable error and sends the batch again (a receiver's
        // client, or the detection processor for findings). The health status reports the full queue.
        // A persistent queue can be full from the start after a restart, before any push succeeded.
        this.queueWarned = true;
        this.setHealth('failing', 'sending queue is full');
        throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', `exporter ${this.options.id}: ${error.message}`);
      }
      throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', `exporter ${this.options.id}: cannot store the batch in the persistent queue: ${errorMessage(error)}`, error);
    }
    this.checkQueueLevel();
  }

  /**
   * Stops taking batches, then flushes. The memory queue drains: retry waits end and every batch
   * still queued gets one more attempt. The persistent queue stops at once and keeps what it holds
   * on disk for the next start. Safe to call twice or before start.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.accepting = false;
    this.stopping = true;
    this.stopController.abort();
    await this.dispatching;
    await Promise.all([...this.tasks]);
    if (this.persistent && this.queue && this.queue.size() > 0) {
      this.options.logger.info({ batches: this.queue.size() }, 'queued batches stay on disk for the next start');
    }
    this.dropLog.flush();
    await this.options.onShutdown?.();
  }

  private openPersistentQueue(): PersistentQueue {
    if (!this.options.storage) throw new Error('sending_queue.storage is lmdb, but the exporter was given no storage');
    const queue = PersistentQueue.open(this.options.storage, this.options.id, this.options.config.sending_queue.queue_size);
    if (queue.recovered > 0) this.options.logger.info({ batches: queue.recovered }, 'resuming queued batches from disk');
    return queue;
  }

  /** Takes requests from the queue and starts a delivery for each while a consumer is free. */
  private async dispatch(queue: BatchQueue): Promise<void> {
    for (;;) {
      await this.slots.acquire();
      const entries = await this.collect(queue);
      if (entries.length === 0) {
        this.slots.release();
        return;
      }
      const task = this.process(queue, entries).finally(() => {
        this.slots.release();
        this.tasks.delete(task);
      });
      this.tasks.add(task);
    }
  }

  /** Waits for the next request's entries; returns none when the exporter stops. */
  private async collect(queue: BatchQueue): Promise<QueueEntry[]> {
    for (;;) {
      if (this.stopping && this.persistent) return [];
      const first = queue.take();
      if (first) return this.options.config.sending_queue.batch.enabled ? this.fill(queue, first) : [first];
      if (this.stopping) return [];
      await queue.waitForEntry(undefined, this.stopController.signal);
    }
  }

  /** Adds queued batches to a request until it reaches min_size or flush_timeout passes. */
  private async fill(queue: BatchQueue, first: QueueEntry): Promise<QueueEntry[]> {
    const batchConfig = this.options.config.sending_queue.batch;
    const entries = [first];
    let items = first.batch.itemCount;
    let bytes = batchConfig.max_bytes > 0 ? this.sizeOf(first.batch) : 0;
    const deadline = Date.now() + batchConfig.flush_timeout;
    while (items < batchConfig.min_size) {
      if (batchConfig.max_size > 0 && items >= batchConfig.max_size) break;
      if (batchConfig.max_bytes > 0 && bytes >= batchConfig.max_bytes) break;
      const next = queue.take();
      if (next) {
        entries.push(next);
        items += next.batch.itemCount;
        if (batchConfig.max_bytes > 0) bytes += this.sizeOf(next.batch);
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.stopping) break;
      await queue.waitForEntry(remaining, this.stopController.signal);
    }
    return entries;
  }

  private sizeOf(batch: Batch): number {
    return this.options.sizer ? this.options.sizer(batch) : batchBytes(batch);
  }

  /** Delivers one request, then removes its entries from the queue, or keeps them for the next start. */
  private async process(queue: BatchQueue, entries: QueueEntry[]): Promise<void> {
    let kept = false;
    for (const group of groupBySignal(entries)) {
      const merged = mergeBatches(group.map((entry) => entry.batch));
      const batchConfig = this.options.config.sending_queue.batch;
      const parts = batchConfig.enabled ? splitBatch(merged, batchConfig.max_size, batchConfig.max_bytes) : [merged];
      for (const part of parts) {
        const outcome = await this.deliver(part);
        if (outcome.status === 'kept') kept = true;
        if (kept) break;
      }
    }
    for (const entry of entries) {
      if (kept) queue.release(entry);
      else await queue.ack(entry).catch((error: unknown) => this.options.logger.error({ err: errorMessage(error) }, 'cannot remove a delivered batch from the persistent queue; it will be sent again'));
    }
    this.checkQueueLevel();
  }

  /** Sends one batch, retrying retryable failures until the retry budget is spent. */
  private async deliver(batch: Batch): Promise<DeliveryOutcome> {
    const prepared = this.trim(batch, this.options.beforeSend, (removed, reason) => this.recordDrop(batch.signal, reason, removed));
    if (!prepared) return { status: 'delivered' };
    let current = prepared;
    const backoff = new Backoff(this.options.config.retry_on_failure);
    for (let attempt = 1; ; attempt++) {
      let dropped = 0;
      const context: SendContext = {
        drop: (items, reason, error) => {
          dropped += items;
          this.recordDrop(current.signal, reason, items, error);
        },
      };
      try {
        await attemptWithTimeout((signal) => this.options.send(current, signal, context), this.options.config.timeout);
        this.metrics.sent(current.signal, current.itemCount - dropped);
        this.setHealth('ok');
        return { status: 'delivered' };
      } catch (error) {
        if (error instanceof SendError && error.remaining) {
          // Items neither dropped nor left to retry went through in this attempt.
          this.metrics.sent(current.signal, current.itemCount - dropped - error.remaining.itemCount);
          current = error.remaining;
        }
        const next = backoff.next(error);
        if (typeof next !== 'number' || this.stopController.signal.aborted) {
          return this.giveUp(current, typeof next === 'number' ? 'shutdown' : next, error);
        }
        this.setHealthUnlessFull('degraded', `retrying after: ${errorMessage(error)}`);
        this.retryWarning.warn({ err: errorMessage(error), attempt, wait_ms: Math.round(next) }, 'send failed; will retry');
        await (this.options.sleep ?? sleep)(next, this.stopController.signal);
      }
    }
  }

  private giveUp(batch: Batch, reason: GiveUpReason, error: unknown): DeliveryOutcome {
    if (reason === 'shutdown' && this.persistent) return { status: 'kept', error };
    this.recordDrop(batch.signal, reason, batch.itemCount, error);
    if (reason === 'retries_exhausted') this.setHealth('failing', `dropped data: ${errorMessage(error)}`);
    else this.setHealthUnlessFull('degraded', `dropped data: ${errorMessage(error)}`);
    return { status: 'dropped', error };
  }

  private recordDrop(signal: Batch['signal'], reason: string, items: number, error?: unknown): void {
    if (items <= 0) return;
    this.metrics.sendFailed(signal, reason, items);
    this.dropLog.record(reason, items, error);
  }

  private trim(batch: Batch, hook: ((batch: Batch) => Trimmed) | undefined, onRemoved: (removed: number, reason: string) => void): Batch | undefined {
    if (!hook) return batch;
    const result = hook(batch);
    if (result.removed > 0) onRemoved(result.removed, result.reason);
    return result.batch && result.batch.itemCount > 0 ? result.batch : undefined;
  }

  /** Warns once when the queue passes 80% of its capacity, and again only after it fell below half. */
  private checkQueueLevel(): void {
    const queue = this.queue;
    if (!queue) return;
    const level = this.queueLevel();
    if (level >= 0.8 && !this.queueWarned) {
      this.queueWarned = true;
      this.options.logger.warn({ batches: queue.size(), capacity: queue.capacity }, 'sending queue is over 80% full');
    } else if (level < 0.5 && this.queueWarned) {
      this.queueWarned = false;
      if (this.health === 'failing') this.setHealth('degraded', 'sending queue is draining');
    }
  }

  /**
   * Reports `status` unless the exporter is `failing` and its queue is still above the level at
   * which it counts as draining. Otherwise each retry would flip the status between `failing` and
   * `degraded` while the queue stays full.
   */
  private setHealthUnlessFull(status: ComponentStatus, message: string): void {
    if (this.health === 'failing' && this.queueWarned && this.queueLevel() >= 0.5) return;
    this.setHealth(status, message);
  }

  /** Returns the share of the queue's capacity in use; 0 without a queue. */
  private queueLevel(): number {
    return this.queue ? this.queue.size() / this.queue.capacity : 0;
  }

  private setHealth(status: ComponentStatus, message?: string): void {
    if (status === this.health && status === 'ok') return;
    this.health = status;
    this.host?.reportStatus(this.options.id, status, message);
  }
}

function groupBySignal(entries: QueueEntry[]): QueueEntry[][] {
  const groups = new Map<string, QueueEntry[]>();
  for (const entry of entries) {
    const group = groups.get(entry.batch.signal);
    if (group) group.push(entry);
    else groups.set(entry.batch.signal, [entry]);
  }
  return [...groups.values()];
}

/** A counting semaphore for the consumers of one queue. */
class Slots {
  private readonly waiters: (() => void)[] = [];

  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}
