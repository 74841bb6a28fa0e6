import { isRetryable } from '../../core/errors.js';
import type { RetryConfig } from './config.js';
import { SendError } from './errors.js';

/** Why a send ended without delivery. */
export type GiveUpReason = 'permanent_error' | 'retries_exhausted' | 'shutdown';

/**
 * Exponential backoff with jitter for one batch, as the Collector's exporterhelper retries: the
 * first wait is `initial_interval`, each later one `multiplier` times longer up to
 * `max_interval`, every wait varied by `randomization_factor` either way, and no attempt starts
 * after `max_elapsed_time`. A Retry-After from the server replaces the computed wait.
 */
export class Backoff {
  private interval: number;
  private readonly startedAt: number;

  constructor(private readonly config: RetryConfig, private readonly now: () => number = Date.now, private readonly random: () => number = Math.random) {
    this.interval = config.initial_interval;
    this.startedAt = now();
  }

  /** Returns the wait before the next attempt in milliseconds, or why there is none. */
  next(error: unknown): number | GiveUpReason {
    if (!isRetryable(error)) return 'permanent_error';
    if (!this.config.enabled) return 'retries_exhausted';
    const retryAfter = error instanceof SendError ? error.retryAfterMs : undefined;
    const factor = this.config.randomization_factor;
    const jittered = this.interval * (1 - factor + this.random() * 2 * factor);
    const wait = retryAfter ?? jittered;
    const elapsed = this.now() - this.startedAt;
    if (this.config.max_elapsed_time > 0 && elapsed + wait > this.config.max_elapsed_time) return 'retries_exhausted';
    this.interval = Math.min(this.interval * this.config.multiplier, this.config.max_interval);
    return wait;
  }
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `send` with a per-attempt timeout: the AbortSignal passed to it fires after `timeoutMs`
 * (0: never), and an attempt that failed after the signal fired is reported as a retryable
 * timeout.
 */
export async function attemptWithTimeout(send: (signal: AbortSignal) => Promise<void>, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs) : undefined;
  try {
    await send(controller.signal);
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof SendError)) {
      throw new SendError(`timed out after ${timeoutMs} ms`, { retryable: true, cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export interface RetryCallbacks {
  /** Called before each wait, for logs and health. */
  onRetry?: (error: unknown, attempt: number, waitMs: number) => void;
}

/**
 * Calls `send` until it succeeds, the error is permanent, the retry budget is spent, or `stop`
 * aborts (then the current attempt is the last). Returns undefined on success, or why it gave up
 * with the last error. For sends outside an exporter's queue, such as PagerDuty `resolve` events.
 */
export async function callWithRetry(
  send: (signal: AbortSignal) => Promise<void>,
  options: { retry: RetryConfig; timeout: number; stop: AbortSignal } & RetryCallbacks,
): Promise<{ reason: GiveUpReason; error: unknown } | undefined> {
  const backoff = new Backoff(options.retry);
  for (let attempt = 1; ; attempt++) {
    try {
      await attemptWithTimeout(send, options.timeout);
      return undefined;
    } catch (error) {
      const next = backoff.next(error);
      if (typeof next !== 'number') return { reason: next, error };
      if (options.stop.aborted) return { reason: 'shutdown', error };
      options.onRetry?.(error, attempt, next);
      await sleep(next, options.stop);
    }
  }
}
