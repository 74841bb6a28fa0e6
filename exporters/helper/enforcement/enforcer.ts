import type { Finding } from '../../../core/data/finding.js';
import type { Logger } from '../../../core/logger.js';
import type { Storage } from '../../../core/storage/storage.js';
import type { Counter, Gauge, PipelineMetrics } from '../../../core/telemetry/metrics.js';
import { errorMessage } from '../../../core/errors.js';
import type { Decision } from './decision.js';
import { EnforcementPolicy, type PolicyConfig } from './policy.js';
import { DecisionStore } from './store.js';

export interface EnforcerOptions {
  id: string;
  policy: PolicyConfig;
  storage: Storage;
  logger: Logger;
  metrics: PipelineMetrics;
  /** Active decisions kept at most. Default 100,000. */
  maxActive?: number;
  /** How long expired decisions stay listed, in milliseconds. Default 24 h. */
  expiredRetention?: number;
  /** Called with the decisions that ended, after they left the active set. */
  onExpired?: (decisions: Decision[]) => void | Promise<void>;
  /** How often expiry runs, in milliseconds. Default 1000. */
  tickMs?: number;
  now?: () => number;
}

/**
 * The policy and the decision store of one enforcement exporter, with the timer that expires
 * decisions. `apply` turns findings into new decisions and stores them before it resolves, so an
 * exporter's consume() acknowledges findings only once their decisions are on disk.
 */
export class Enforcer {
  readonly policy: EnforcementPolicy;
  store: DecisionStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private expiring: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly made: Counter;
  private readonly skipped: Counter;
  private readonly expiredCount: Counter;
  private readonly active: Gauge;

  constructor(private readonly options: EnforcerOptions) {
    this.policy = new EnforcementPolicy(options.policy);
    this.now = options.now ?? Date.now;
    const registry = options.metrics.registry;
    this.made = registry.counter('watchpost_enforcement_decisions_total', 'Ban decisions an enforcement exporter made, by scope and dry-run mode.');
    this.skipped = registry.counter('watchpost_enforcement_skipped_findings_total', 'Findings that led to no decision, by reason.');
    this.expiredCount = registry.counter('watchpost_enforcement_expired_decisions_total', 'Decisions that ended, by why: expired or evicted to stay within the active limit.');
    this.active = registry.gauge('watchpost_enforcement_active_decisions', 'Decisions in force per enforcement exporter.');
  }

  /** Opens the store and starts expiring decisions. */
  start(): void {
    this.store = new DecisionStore({
      id: this.options.id,
      storage: this.options.storage,
      maxActive: this.options.maxActive ?? 100_000,
      expiredRetention: this.options.expiredRetention ?? 86_400_000,
    });
    this.active.track({ exporter: this.options.id }, () => this.store?.size ?? 0);
    if (this.store.size > 0) this.options.logger.info({ decisions: this.store.size }, 'loaded active decisions from disk');
    this.timer = setInterval(() => void this.expireNow(), this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.expiring;
  }

  /**
   * Applies the policy to each finding and stores the decisions it makes; returns them. A finding
   * whose decision is still the active one for its value gets that decision back rather than a
   * second one, so applying a batch again after a failed delivery or a restart repeats the same
   * decisions, with the same ids.
   */
  async apply(findings: readonly Finding[]): Promise<Decision[]> {
    const store = this.requireStore();
    const made: Decision[] = [];
    let created = 0;
    for (const finding of findings) {
      const result = this.policy.decide(finding, (scope, value) => store.history(scope, value), this.now());
      if ('skipped' in result) {
        this.skipped.add({ exporter: this.options.id, reason: result.skipped });
        continue;
      }
      const current = store.find(result.decision.scope, result.decision.value);
      if (current?.finding_id === finding.id) {
        made.push(current);
        continue;
      }
      if (current && current.until >= result.decision.until) {
        this.skipped.add({ exporter: this.options.id, reason: 'already_banned' });
        continue;
      }
      const { decision, evicted } = await store.add(result.decision, Date.parse(finding.time));
      made.push(decision);
      created++;
      this.made.add({ exporter: this.options.id, scope: decision.scope, dry_run: String(decision.dry_run) });
      if (evicted.length > 0) await this.ended(evicted, 'evicted');
    }
    await store.flush();
    if (created > 0) {
      this.options.logger.info({ decisions: created, dry_run: this.policy.dryRun || undefined, first: { scope: made[0].scope, value: made[0].value, until: made[0].until } }, 'made ban decisions');
    }
    return made;
  }

  /** Expires due decisions now; the timer calls it every tick. */
  expireNow(): Promise<void> {
    this.expiring = this.expiring.then(async () => {
      const store = this.store;
      if (!store) return;
      try {
        const ended = await store.expire(this.now());
        if (ended.length > 0) await this.ended(ended, 'expired');
      } catch (error) {
        this.options.logger.error({ err: errorMessage(error) }, 'cannot expire decisions');
      }
    });
    return this.expiring;
  }

  private async ended(decisions: Decision[], why: 'expired' | 'evicted'): Promise<void> {
    this.expiredCount.add({ exporter: this.options.id, reason: why }, decisions.length);
    if (why === 'evicted') this.options.logger.warn({ decisions: decisions.length, max_active: this.options.maxActive }, 'ended decisions early to stay within the active limit');
    await this.options.onExpired?.(decisions);
  }

  private requireStore(): DecisionStore {
    if (!this.store) throw new Error('the decision store is not open; start the exporter first');
    return this.store;
  }
}
