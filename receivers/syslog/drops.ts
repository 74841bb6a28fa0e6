import type { Logger } from '../../core/logger.js';
import type { Counter } from '../../core/telemetry/metrics.js';

/** How often a run of drops is summarised in the log, in milliseconds. */
const LOG_INTERVAL_MS = 10_000;

/**
 * Counts lost messages in a metric and logs them without flooding: the first drop of a quiet
 * period is logged at once, and the rest of the period as one line with a total.
 */
export class DropReporter {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly counter: Counter, private readonly labels: Record<string, string>, private readonly logger: Logger) {}

  drop(transport: string, reason: string, count: number, error?: string): void {
    if (count <= 0) return;
    this.counter.add({ ...this.labels, transport, reason }, count);
    const key = `${transport}\u0000${reason}`;
    if (this.timer === undefined) {
      this.logger.error({ transport, reason, dropped: count, err: error }, 'dropped syslog messages');
      this.timer = setTimeout(() => this.flush(), LOG_INTERVAL_MS);
      this.timer.unref();
      return;
    }
    this.pending.set(key, (this.pending.get(key) ?? 0) + count);
  }

  /** Logs the totals held back since the last line. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, dropped] of this.pending) {
      const [transport, reason] = key.split('\u0000');
      this.logger.error({ transport, reason, dropped, seconds: LOG_INTERVAL_MS / 1000 }, 'dropped more syslog messages');
    }
    this.pending.clear();
  }
}
