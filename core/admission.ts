import { retryableError, type WatchpostError } from './errors.js';

interface Refusal {
  reason: string;
  /** How long senders should wait before trying again, in seconds. */
  retryAfterSeconds: number;
}

/**
 * Admission control shared by every receiver. Components that guard a resource (the memory
 * limiter) call `refuse` and `admit`; receivers call `check` before they read or decode a
 * request, so data is refused while it is still cheap to refuse: HTTP answers 503 with
 * Retry-After, gRPC UNAVAILABLE, and stream receivers stop reading until `whenAdmitted` resolves.
 */
export class Admission {
  private readonly refusals = new Map<string, Refusal>();
  private waiters: (() => void)[] = [];
  private isDraining = false;

  /** Starts refusing on behalf of `source` (a component id) until it calls `admit`; ignored while draining. */
  refuse(source: string, reason: string, retryAfterSeconds = 1): void {
    if (this.isDraining) return;
    this.refusals.set(source, { reason, retryAfterSeconds });
  }

  admit(source: string): void {
    if (!this.refusals.delete(source) || this.refusals.size > 0) return;
    this.wakeWaiters();
  }

  /**
   * Ends every refusal for good, as shutdown begins. Receivers stop taking new data first, but
   * what they already hold, such as a syslog batch waiting for admission, must still reach the
   * exporters before those stop. A refusal would make them drop it.
   */
  drain(): void {
    this.isDraining = true;
    this.refusals.clear();
    this.wakeWaiters();
  }

  /** Whether shutdown began, so components that refuse on their own (the memory_limiter processor) let data through. */
  get draining(): boolean {
    return this.isDraining;
  }

  /** The current refusal, if any source is refusing. */
  get refusal(): Refusal | undefined {
    return this.refusals.values().next().value;
  }

  /** Throws a retryable error that carries Retry-After while any source is refusing. */
  check(): void {
    const refusal = this.refusal;
    if (!refusal) return;
    const error: WatchpostError & { retryAfterSeconds?: number } = retryableError('WP_ERR_RECEIVER_OVERLOADED', `refusing data: ${refusal.reason}; retry later`);
    error.retryAfterSeconds = refusal.retryAfterSeconds;
    throw error;
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at once when admitting, or when the last refusal ends. */
  whenAdmitted(): Promise<void> {
    if (this.refusals.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
