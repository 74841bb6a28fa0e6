import { WatchpostError } from '../../core/errors.js';

/** A failed send. `retryable` decides between another attempt and dropping the batch. */
export class SendError extends WatchpostError {
  /** How long the server asked us to wait (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
  /** The HTTP status, when there was a response. */
  readonly status?: number;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown }) {
    super('WP_ERR_EXPORTER_SEND', message, { retryable: options.retryable, cause: options.cause });
    this.name = 'SendError';
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
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

export function statusError(status: number, body: string, retryAfter?: string | string[]): SendError {
  const detail = body.length > 200 ? `${body.slice(0, 200)}…` : body;
  return new SendError(`server answered HTTP ${status}${detail ? `: ${detail}` : ''}`, {
    retryable: isRetryableStatus(status),
    retryAfterMs: parseRetryAfter(retryAfter),
    status,
  });
}
