import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';

/**
 * Logs data loss without flooding: the first loss at once, then at most one line a minute with
 * the items lost per reason since the last line. Call `flush` at shutdown for the remainder.
 */
export class DropLog {
  private pending = new Map<string, number>();
  private lastLogMs = 0;
  private lastError = '';

  constructor(private readonly logger: Logger, private readonly message: string) {}

  record(reason: string, items: number, error?: unknown): void {
    this.pending.set(reason, (this.pending.get(reason) ?? 0) + items);
    if (error !== undefined) this.lastError = errorMessage(error);
    if (Date.now() - this.lastLogMs >= 60_000) this.flush();
  }

  flush(): void {
    if (this.pending.size === 0) return;
    this.logger.error({ dropped: Object.fromEntries(this.pending), last_error: this.lastError || undefined }, this.message);
    this.pending = new Map();
    this.lastLogMs = Date.now();
  }
}
