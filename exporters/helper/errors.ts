import type { Batch } from '../../core/data/batch.js';
import { WatchpostError } from '../../core/errors.js';

export interface SendErrorOptions {
  retryable: boolean;
  retryAfterMs?: number;
  status?: number;
  cause?: unknown;
  /**
   * For a partial failure: the part of the batch still worth retrying, such as the documents of
   * an Elasticsearch `_bulk` request that came back with 429. The next attempt sends only this.
   */
  remaining?: Batch;
}

/** A failed send. `retryable` decides between another attempt and dropping the batch. */
export class SendError extends WatchpostError {
  /** How long the server asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /** The HTTP status, when there was a response. */
  readonly status?: number;
  readonly remaining?: Batch;

  constructor(message: string, options: SendErrorOptions) {
    super('WP_ERR_EXPORTER_SEND', message, { retryable: options.retryable, cause: options.cause });
    this.name = 'SendError';
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.remaining = options.remaining;
  }
}

/**
 * HTTP statuses worth another attempt: 408 and 429 mean "not now", and 500, 502, 503 and 504
 * mean the server or a proxy in front of it failed. Other 4xx say the request itself is wrong,
 * so repeating it cannot help.
 */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** Parses a Retry-After header, either delay-seconds or an HTTP date, into milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Builds the SendError for a non-2xx response; the body is cut to 200 characters for the message. */
export function statusError(status: number, body: string, retryAfter?: string | string[]): SendError {
  const detail = body.length > 200 ? `${body.slice(0, 200)}…` : body;
  return new SendError(`server answered HTTP ${status}${detail ? `: ${detail}` : ''}`, {
    retryable: isRetryableStatus(status),
    retryAfterMs: parseRetryAfter(retryAfter),
    status,
  });
}
