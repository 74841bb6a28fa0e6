import type { Admission } from '../../core/admission.js';
import type { Logger } from '../../core/logger.js';
import type { Limits } from './memory.js';

const MIB = 1024 * 1024;
/** A forced collection above the soft limit (but below the hard one) runs at most this often, in milliseconds. */
const SOFT_GC_INTERVAL_MS = 10_000;

export interface LimiterHooks {
  /** The resident set size in bytes. */
  measure(): number;
  /** An estimate of the memory in use, for after a collection (see liveMemoryEstimator). */
  live(): number;
  collect(): void;
  now(): number;
  /** Called after each check with the measured size and whether data is refused. */
  checked?(rss: number, refusing: boolean, collected: boolean): void;
}

/**
 * The memory limiter's state machine. Above the soft limit it makes receivers refuse data
 * through admission control. It refuses while both the resident set size and the estimate of
 * memory in use are above the soft limit. Resident memory beyond the live data is freed memory
 * that the allocator keeps and new data reuses first, and after a burst it can stay above even the
 * hard limit for good, so it alone does not justify refusing. To keep the estimate honest, a
 * collection is forced before judging: every 10 s above the soft limit, and at every check above
 * the hard limit until a collection shows the memory in use below the soft limit.
 */
export class MemoryLimiter {
  refusing = false;
  /** Collections forced so far. */
  collections = 0;
  private lastCollectionMs = -Infinity;
  /** Whether the last forced collection left the estimate of memory in use below the soft limit. */
  private settledBelowSoft = false;

  constructor(
    private readonly id: string,
    readonly limits: Limits,
    private readonly admission: Admission,
    private readonly retryAfterSeconds: number,
    private readonly logger: Logger,
    private readonly hooks: LimiterHooks,
  ) {}

  check(): void {
    let rss = this.hooks.measure();
    let collected = false;
    const now = this.hooks.now();
    const dueInterval = rss >= this.limits.hard && !this.settledBelowSoft ? 0 : SOFT_GC_INTERVAL_MS;
    if (rss >= this.limits.soft && now - this.lastCollectionMs >= dueInterval) {
      this.hooks.collect();
      this.collections++;
      this.lastCollectionMs = now;
      collected = true;
      rss = this.hooks.measure();
    }
    // Without a collection just before, the estimate includes garbage, so it errs toward refusing.
    const live = Math.min(rss, this.hooks.live());
    const above = live >= this.limits.soft;
    if (collected) this.settledBelowSoft = !above;
    if (above) {
      // The reason is rewritten at every check, so a refused sender reads current figures.
      this.admission.refuse(this.id, `memory in use ${mib(live)} MiB (resident ${mib(rss)} MiB) is above the soft limit of ${mib(this.limits.soft)} MiB`, this.retryAfterSeconds);
    }
    if (above && !this.refusing) {
      this.refusing = true;
      // The next check collects first, even above the hard limit, rather than trust an estimate with garbage in it.
      this.settledBelowSoft = false;
      this.logger.warn({ rss_mib: mib(rss), live_mib: mib(live), soft_limit_mib: mib(this.limits.soft), hard_limit_mib: mib(this.limits.hard) }, 'memory above the soft limit; receivers refuse data');
    } else if (!above && this.refusing) {
      this.refusing = false;
      this.admission.admit(this.id);
      this.logger.info({ rss_mib: mib(rss), live_mib: mib(live), soft_limit_mib: mib(this.limits.soft) }, 'memory below the soft limit again; receivers accept data');
    }
    this.hooks.checked?.(rss, this.refusing, collected);
  }

  /** Ends a refusal, as at shutdown. */
  release(): void {
    if (!this.refusing) return;
    this.refusing = false;
    this.admission.admit(this.id);
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / MIB);
}
