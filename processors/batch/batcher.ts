import type { Consumer } from '../../core/component.js';
import { FindingsBatch, OtlpBatch, type Batch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import type { Signal } from '../../core/data/signal.js';
import { retryableError } from '../../core/errors.js';
import { splitRequest } from '../helper/otlp-wire.js';
import type { BatchConfig } from './config.js';

export type FlushTrigger = 'size' | 'bytes' | 'timeout' | 'shutdown';

/** Items collected for one outgoing batch, and the promise every contributing caller waits on. */
class Group {
  readonly parts: Uint8Array[] = [];
  readonly findings: Finding[] = [];
  items = 0;
  bytes = 0;
  origin: Batch['origin'] | undefined;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers attach their handlers later; an early rejection must not count as unhandled.
    this.done.catch(() => undefined);
  }
}

export interface BatcherObserver {
  flushed(trigger: FlushTrigger, items: number): void;
}

/**
 * Joins incoming batches into larger ones by item count, bytes and time. A caller's promise
 * settles only when every batch its data went into was accepted downstream, or with the
 * downstream error, so a receiver acknowledges nothing that is dropped later. OTLP batches are
 * joined and split on the protobuf wire format without decoding.
 */
export class Batcher {
  private current = new Group();
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;

  /** `signal` is the pipeline's signal; a batch processor instance serves one pipeline. */
  constructor(private readonly config: BatchConfig, private readonly signal: Signal, private readonly next: Consumer, private readonly observer: BatcherObserver) {}

  consume(batch: Batch): Promise<void> {
    if (this.stopped) return Promise.reject(retryableError('WP_ERR_SHUTTING_DOWN', 'the batch processor is shutting down'));
    const waits: Promise<void>[] = [];
    if (batch instanceof FindingsBatch) this.addFindings(batch, waits);
    else this.addOtlp(batch, waits);
    return Promise.all(waits).then(() => undefined);
  }

  /** Sends what is collected and waits for every send in progress. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.flush('shutdown');
    await Promise.allSettled([...this.inFlight]);
  }

  private addOtlp(batch: OtlpBatch, waits: Promise<void>[]): void {
    const { send_batch_max_size: maxItems, send_batch_max_bytes: maxBytes } = this.config;
    const bytes = batch.toBytes();
    const chunks = (maxItems > 0 && batch.itemCount > maxItems) || (maxBytes > 0 && bytes.length > maxBytes)
      ? splitRequest(batch.signal, bytes, maxItems, maxBytes)
      : [{ bytes, items: batch.itemCount }];
    for (const chunk of chunks) {
      const overItems = maxItems > 0 && this.current.items + chunk.items > maxItems;
      const overBytes = maxBytes > 0 && this.current.bytes + chunk.bytes.length > maxBytes;
      if (this.current.items > 0 && (overItems || overBytes)) this.flush(overBytes ? 'bytes' : 'size');
      const group = this.current;
      group.parts.push(chunk.bytes);
      group.items += chunk.items;
      group.bytes += chunk.bytes.length;
      group.origin ??= batch.origin;
      waits.push(group.done);
      this.afterAdd();
    }
  }

  private addFindings(batch: FindingsBatch, waits: Promise<void>[]): void {
    const maxItems = this.config.send_batch_max_size;
    let start = 0;
    while (start < batch.findings.length) {
      const room = maxItems > 0 ? maxItems - this.current.items : Infinity;
      if (room <= 0) {
        this.flush('size');
        continue;
      }
      const slice = batch.findings.slice(start, start + room);
      start += slice.length;
      const group = this.current;
      group.findings.push(...slice);
      group.items += slice.length;
      group.origin ??= batch.origin;
      waits.push(group.done);
      this.afterAdd();
    }
  }

  private afterAdd(): void {
    const group = this.current;
    if (group.items >= this.config.send_batch_size) this.flush('size');
    else if (this.config.send_batch_max_bytes > 0 && group.bytes >= this.config.send_batch_max_bytes) this.flush('bytes');
    else if (this.config.timeout === 0) this.flush('timeout');
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush('timeout');
      }, this.config.timeout);
    }
  }

  private flush(trigger: FlushTrigger): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const group = this.current;
    if (group.items === 0) return;
    this.current = new Group();
    const origin = group.origin ?? { receiver: 'batch' };
    const output = this.signal === 'findings'
      ? new FindingsBatch(group.findings, origin)
      : OtlpBatch.fromBytes(this.signal, group.parts.length === 1 ? group.parts[0] : Buffer.concat(group.parts, group.bytes), group.items, origin);
    this.observer.flushed(trigger, group.items);
    const delivery = this.next.consume(output).then(group.resolve, group.reject).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }
}
