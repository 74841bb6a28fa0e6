import { FindingsBatch, type Batch, type BatchOrigin } from '../../core/data/batch.js';
import { SEVERITIES, severityRank, type Finding, type Severity } from '../../core/data/finding.js';
import { integer, number, object, string } from '../../core/config/schema.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import { SendError } from './errors.js';
import type { SendContext, Trimmed } from './sender.js';

/** Settings every alerting exporter shares. */
export interface AlertingConfig {
  /** Findings below this severity are not sent. Default `info` (everything) unless the exporter sets another default. */
  min_severity: Severity;
  rate_limit: RateLimitConfig;
}

/** A token bucket per destination: findings beyond it are dropped and counted as `rate_limited`. */
export interface RateLimitConfig {
  /** Findings per second the destination receives on average; 0 turns the limit off. */
  rate: number;
  /** Findings that may be sent at once after a quiet period. Default: one second's worth, at least 1. */
  burst: number;
}

export const alertingSchemaFields = {
  min_severity: string({ enum: SEVERITIES }),
  rate_limit: object({
    rate: number({ min: 0 }),
    burst: integer({ min: 0 }),
  }),
};

/** Keeps the findings at or above `min`; other signals pass unchanged. */
export function severityFilter(min: Severity): (batch: Batch) => Trimmed {
  const floor = severityRank(min);
  return (batch) => {
    if (batch.signal !== 'findings' || floor === 0) return { batch, removed: 0, reason: 'below_min_severity' };
    const kept = batch.findings.filter((finding) => severityRank(finding.severity) >= floor);
    const removed = batch.findings.length - kept.length;
    return { batch: removed === 0 ? batch : new FindingsBatch(kept, batch.origin), removed, reason: 'below_min_severity' };
  };
}

/**
 * A token bucket: `rate` tokens per second accumulate up to `burst`, and each finding sent takes
 * one. Findings that find no token are removed from the batch.
 */
export class RateLimiter {
  private tokens: number;
  private updatedAt: number;
  private readonly burst: number;

  constructor(private readonly config: RateLimitConfig, private readonly now: () => number = Date.now) {
    this.burst = config.burst > 0 ? config.burst : Math.max(1, Math.ceil(config.rate));
    this.tokens = this.burst;
    this.updatedAt = now();
  }

  /** Takes up to `wanted` tokens and returns how many it got. */
  take(wanted: number): number {
    if (this.config.rate <= 0) return wanted;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.config.rate);
    this.updatedAt = now;
    const granted = Math.min(wanted, Math.floor(this.tokens));
    this.tokens -= granted;
    return granted;
  }

  /** A `beforeSend` hook for the exporter helper. */
  hook(): (batch: Batch) => Trimmed {
    return (batch) => {
      if (batch.signal !== 'findings' || this.config.rate <= 0) return { batch, removed: 0, reason: 'rate_limited' };
      const granted = this.take(batch.findings.length);
      const removed = batch.findings.length - granted;
      return { batch: removed === 0 ? batch : new FindingsBatch(batch.findings.slice(0, granted), batch.origin), removed, reason: 'rate_limited' };
    };
  }
}

/** One request of an alerting exporter and the findings it carries. */
export interface AlertMessage {
  findings: Finding[];
  send: (signal: AbortSignal) => Promise<void>;
}

/** Messages of one batch in flight at once. */
const SEND_CONCURRENCY = 4;

/**
 * Sends the messages of one batch, up to four at a time. A message the receiver rejects for good
 * is dropped and counted while the others go on. When a message fails in a way worth retrying,
 * the error carries the findings of every message not yet delivered, so the next attempt does not
 * repeat what went through.
 */
export async function sendEach(messages: AlertMessage[], signal: AbortSignal, context: SendContext, origin: BatchOrigin): Promise<void> {
  const delivered = new Array<boolean>(messages.length).fill(false);
  let retryable: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (retryable === undefined && next < messages.length) {
      const index = next++;
      try {
        await messages[index].send(signal);
        delivered[index] = true;
      } catch (error) {
        if (isRetryable(error)) {
          retryable ??= error;
          return;
        }
        context.drop(messages[index].findings.length, 'permanent_error', error);
        delivered[index] = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, messages.length) }, worker));
  if (retryable === undefined) return;
  const remaining = messages.filter((_, index) => !delivered[index]).flatMap((message) => message.findings);
  throw withRemaining(retryable, new FindingsBatch(remaining, origin));
}

/** Returns the error as a SendError whose next attempt sends only `remaining`. */
export function withRemaining(error: unknown, remaining: FindingsBatch): SendError {
  if (!(error instanceof SendError)) return new SendError(errorMessage(error), { retryable: isRetryable(error), cause: error, remaining });
  return new SendError(error.message, { retryable: error.retryable, retryAfterMs: error.retryAfterMs, status: error.status, cause: error.cause, remaining });
}

/** Returns the quiet period after which an alert resolves: the finding's suppression period, or `fallbackMs` when it has none. */
export function quietPeriod(finding: Finding, fallbackMs: number): number {
  return finding.suppress_seconds !== undefined && finding.suppress_seconds > 0 ? finding.suppress_seconds * 1000 : fallbackMs;
}
