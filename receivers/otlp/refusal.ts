import { errorMessage, isRetryable, WatchpostError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.js';

/**
 * The response to a failed export:
 * - `invalid`: the data is bad and sending it again cannot help (HTTP 400, gRPC INVALID_ARGUMENT);
 * - `throttled`: a queue is full, so the client should slow down (HTTP 429, gRPC UNAVAILABLE);
 * - `unavailable`: the daemon is short of memory, shutting down, or a worker failed
 *   (HTTP 503, gRPC UNAVAILABLE).
 * The last two carry a delay that clients honour before they retry.
 */
export interface ExportFailure {
  kind: 'invalid' | 'throttled' | 'unavailable';
  message: string;
  /** Seconds the client should wait before it retries; only for `throttled` and `unavailable`. */
  retryAfterSeconds: number;
}

/** The wait suggested when the refusing component named none, in seconds. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** Maximum length of an error message sent back or logged, in characters, because decode errors may quote attacker text. */
const MAX_MESSAGE_LENGTH = 1024;

export function truncateMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}

/** Maps an error from decoding or the pipelines to the response the sender gets. */
export function classifyExportError(error: unknown): ExportFailure {
  const message = truncateMessage(errorMessage(error));
  if (!isRetryable(error)) return { kind: 'invalid', message, retryAfterSeconds: 0 };
  // Admission control (the memory limiter) names its own wait; a full queue does not.
  const named = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
  if (named !== undefined) return { kind: 'unavailable', message, retryAfterSeconds: named };
  const code = error instanceof WatchpostError ? error.code : undefined;
  const queueFull = code === 'WP_ERR_EXPORTER_QUEUE_FULL' || code === 'WP_ERR_RECEIVER_OVERLOADED';
  return { kind: queueFull ? 'throttled' : 'unavailable', message, retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
}

/** How often the refusal summary is logged at most, in milliseconds. */
const LOG_INTERVAL_MS = 60_000;

/**
 * Counts the requests a listener refused, by protocol and reason, in
 * `watchpost_receiver_refused_requests_total`, and logs them: the first refusal at once, then
 * at most one line a minute with the counts since the last line, never one line per request.
 */
export class RefusalLog {
  private readonly counter: Counter;
  private pending = new Map<string, number>();
  private lastLogAt = 0;
  private lastMessage = '';
  /** Logs refusals held back by the interval once it ends, even when no other refusal follows. */
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly receiver: string, private readonly logger: Logger, registry: MetricsRegistry) {
    this.counter = registry.counter('watchpost_receiver_refused_requests_total', 'Requests a receiver answered with an error, by protocol and reason.');
  }

  /** Records one refused request; `message` must never contain a secret, such as the presented token. */
  record(protocol: 'grpc' | 'http', reason: string, message: string): void {
    this.counter.add({ receiver: this.receiver, protocol, reason });
    const key = `${protocol}/${reason}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.lastMessage = truncateMessage(message);
    const sinceLog = Date.now() - this.lastLogAt;
    if (sinceLog >= LOG_INTERVAL_MS) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), LOG_INTERVAL_MS - sinceLog);
      this.timer.unref();
    }
  }

  /** Logs the refusals not yet logged; called at shutdown too. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    this.logger.warn({ refused: Object.fromEntries(this.pending), last_error: this.lastMessage }, 'refused OTLP requests');
    this.pending = new Map();
    this.lastLogAt = Date.now();
  }
}
