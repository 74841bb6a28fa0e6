import type { Consumer, PipelineInput } from '../component.js';
import type { Batch } from '../data/batch.js';
import type { StageSpec } from '../pool/pool.js';
import { WatchpostError, isRetryable } from '../errors.js';

/**
 * Passes each batch to every consumer concurrently and waits for all of them, so one slow or
 * failing consumer never keeps the batch from the others. The first error is passed back,
 * retryable if any failure was, so the sender retries rather than loses data; consumers that
 * succeeded then receive the batch again, which at-least-once delivery allows. A caller that
 * retries by itself can use the error's `resendOf` to reach only the consumers that failed.
 */
export class FanoutConsumer implements Consumer {
  constructor(private readonly consumers: Consumer[], private readonly forkPerConsumer: boolean) {}

  async consume(batch: Batch): Promise<void> {
    if (this.consumers.length === 1) return this.consumers[0].consume(batch);
    // Fork before calling anyone, because a consumer may change its batch before its first await.
    const batches = this.consumers.map((_, index) => (this.forkPerConsumer && index > 0 ? batch.fork() : batch));
    const results = await Promise.allSettled(this.consumers.map((consumer, index) => consumer.consume(batches[index])));
    throwFailures(results, (index) => () => this.consumers[index].consume(batches[index]));
  }
}

/** A function that delivers a batch again to the consumers that rejected it, and only to them. */
export type Resend = () => Promise<void>;

const RESEND = Symbol('resend');

/**
 * Returns how to deliver again what a fan-out failed to deliver, when `error` came from one:
 * only the consumers that rejected the batch get it again, so a retry loop does not copy it to
 * the others once per attempt.
 */
export function resendOf(error: unknown): Resend | undefined {
  return error !== null && typeof error === 'object' ? (error as { [RESEND]?: Resend })[RESEND] : undefined;
}

/**
 * Throws the error to pass back for the failed deliveries in `results`, retryable first, with a
 * resend of the failed ones attached. `again(index)` delivers result `index` once more. A failure
 * that came from a fan-out itself is resent through that fan-out's own resend.
 */
function throwFailures(results: PromiseSettledResult<void>[], again: (index: number) => Resend): void {
  const reasons: unknown[] = [];
  const retries: Resend[] = [];
  results.forEach((result, index) => {
    if (result.status !== 'rejected') return;
    reasons.push(result.reason);
    retries.push(resendOf(result.reason) ?? again(index));
  });
  if (retries.length === 0) return;

  const error = reasons.find(isRetryable) ?? reasons[0];
  const resend: Resend = async () => throwFailures(await Promise.allSettled(retries.map((retry) => retry())), (index) => retries[index]);
  if (error !== null && typeof error === 'object') Object.defineProperty(error, RESEND, { value: resend, configurable: true });
  throw error;
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
