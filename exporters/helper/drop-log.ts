import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';

/** How often a repeated log line is written at most, in milliseconds. */
const LOG_INTERVAL_MS = 60_000;

/**
 * Logs dropped data once when drops start and then at most once a minute with the totals since
 * the last line, by reason, never once per batch.
 */
export class DropLog {
  private pending = new Map<string, number>();
  private lastLog = 0;
  private lastError = '';

  constructor(private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  record(reason: string, items: number, error?: unknown): void {
    if (items <= 0) return;
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + items);
    if (error !== undefined) this.lastError = errorMessage(error);
    if (this.now() - this.lastLog >= LOG_INTERVAL_MS) this.flush();
  }

  /** Writes the pending totals now, as shutdown does. */
  flush(): void {
    if (this.pending.size === 0) return;
    const dropped = Object.fromEntries(this.pending);
    this.logger.error({ dropped, last_error: this.lastError || undefined }, 'exporter dropped data');
    this.pending = new Map();
    this.lastLog = this.now();
  }
}

/**
 * Logs a warning the first time and then at most once per interval, with the number of
 * occurrences skipped in between, for repeated conditions such as retries during an outage.
 */
export class ThrottledWarning {
  private lastLog = -Infinity;
  private skipped = 0;

  constructor(private readonly logger: Logger, private readonly intervalMs = 10_000, private readonly now: () => number = Date.now) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (now - this.lastLog < this.intervalMs) {
      this.skipped++;
      return;
    }
    this.logger.warn({ ...fields, repeated: this.skipped || undefined }, message);
    this.lastLog = now;
    this.skipped = 0;
  }
}
