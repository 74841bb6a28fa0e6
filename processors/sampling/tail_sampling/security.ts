import type { Finding } from '../../../core/data/finding.js';
import type { SecurityConfig } from './config.js';
import { defaultSecurityConfig } from './config.js';

/**
 * The `security` policy's record of detection's findings: the actors (client address or user
 * identity) with a finding in the last `retention`, and the trace ids that findings cite as
 * evidence. Both are bounded; past the bound the entry that expires soonest (or was cited
 * longest ago) goes first, counted in `evicted`.
 */
export class SecurityState {
  readonly settings: Required<SecurityConfig>;
  /** Actor key (`address:…`, `identity:…`) to the wall-clock time its retention ends, in expiry order. */
  private readonly actors = new Map<string, number>();
  private readonly flagged = new Set<string>();
  evicted = 0;

  constructor(config: SecurityConfig | undefined, readonly markBit: number) {
    this.settings = { ...defaultSecurityConfig(), ...config };
  }

  /** Records the findings' actors and evidence trace ids; returns the trace ids cited. */
  observe(findings: readonly Finding[], nowMs: number): string[] {
    const cited: string[] = [];
    const until = nowMs + this.settings.retention;
    for (const finding of findings) {
      if (this.settings.actors.includes('address') && finding.actor.address) this.remember(`address:${finding.actor.address}`, until);
      if (this.settings.actors.includes('identity') && finding.actor.identity) this.remember(`identity:${finding.actor.identity}`, until);
      for (const evidence of finding.evidence) {
        if (!evidence.trace_id) continue;
        const traceId = evidence.trace_id.toLowerCase();
        this.flagged.delete(traceId);
        this.flagged.add(traceId);
        cited.push(traceId);
        if (this.flagged.size > this.settings.max_flagged_traces) {
          this.flagged.delete(this.flagged.values().next().value as string);
          this.evicted++;
        }
      }
    }
    return cited;
  }

  /** Reports whether the trace carries a detection mark, is cited by a finding, or belongs to an actor with an active finding. */
  keeps(trace: { traceId: string; marks: number; actors: Iterable<string> }, nowMs: number): boolean {
    if (this.markBit >= 0 && (trace.marks & (1 << this.markBit)) !== 0) return true;
    if (this.flagged.has(trace.traceId)) return true;
    for (const actor of trace.actors) {
      const until = this.actors.get(actor);
      if (until === undefined) continue;
      if (until > nowMs) return true;
      this.actors.delete(actor);
    }
    return false;
  }

  /** Actors whose retention has not ended, for tests and metrics. */
  activeActors(nowMs: number): string[] {
    return [...this.actors].filter(([, until]) => until > nowMs).map(([actor]) => actor);
  }

  private remember(actor: string, until: number): void {
    // Re-inserting keeps the map in expiry order, because every entry gets the same retention.
    this.actors.delete(actor);
    this.actors.set(actor, until);
    if (this.actors.size > this.settings.max_actors) {
      this.actors.delete(this.actors.keys().next().value as string);
      this.evicted++;
    }
  }
}
