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

  /** Starts refusing on behalf of `source` (a component id) until it calls `admit`. */
  refuse(source: string, reason: string, retryAfterSeconds = 1): void {
    this.refusals.set(source, { reason, retryAfterSeconds });
  }

  admit(source: string): void {
    if (!this.refusals.delete(source) || this.refusals.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
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

  /** Resolves at once when admitting, or when the last refusal ends. */
  whenAdmitted(): Promise<void> {
    if (this.refusals.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
