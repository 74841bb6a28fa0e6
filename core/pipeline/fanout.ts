import type { Consumer, PipelineInput } from '../component.js';
import type { Batch } from '../data/batch.js';
import type { StageSpec } from '../pool/pool.js';
import { WatchpostError, isRetryable } from '../errors.js';

/**
 * Passes each batch to every consumer concurrently and waits for all of them, so one slow or
 * failing consumer never keeps the batch from the others. The first error is passed back,
 * retryable if any failure was, so the sender retries rather than loses data; consumers that
 * succeeded then receive the batch again, which at-least-once delivery allows.
 */
export class FanoutConsumer implements Consumer {
  constructor(private readonly consumers: Consumer[], private readonly forkPerConsumer: boolean) {}

  async consume(batch: Batch): Promise<void> {
    if (this.consumers.length === 1) return this.consumers[0].consume(batch);
    // Fork before calling anyone, because a consumer may change its batch before its first await.
    const batches = this.consumers.map((_, index) => (this.forkPerConsumer && index > 0 ? batch.fork() : batch));
    const results = await Promise.allSettled(this.consumers.map((consumer, index) => consumer.consume(batches[index])));
    const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected').map((result) => result.reason as unknown);
    if (failures.length === 0) return;
    const retryable = failures.find(isRetryable);
    throw retryable ?? failures[0];
  }
}

/** The pipelines a receiver feeds for one signal, with the worker stages they want. */
export class PipelineEntry extends FanoutConsumer implements PipelineInput {
  constructor(consumers: Consumer[], readonly workerStages: StageSpec[]) {
    // Every pipeline gets its own fork, because processors may change the batch.
    super(consumers, true);
  }
}

export function isPermanent(error: unknown): boolean {
  return error instanceof WatchpostError && !error.retryable;
}
