import type { Database, Storage } from '../../../core/storage/storage.js';
import { decisionKey, type Decision, type DecisionScope, type ExpiredDecision } from './decision.js';
import type { OffenseHistory } from './policy.js';

/** How often expired records are checked against the retention, in milliseconds. */
const PRUNE_INTERVAL_MS = 60_000;

export interface DecisionStoreOptions {
  /** The exporter id; the databases are `decisions/<id>`, `decision_history/<id>` and `decisions_expired/<id>`. */
  id: string;
  storage: Storage;
  /** Active decisions kept at most; past it the one ending soonest is expired early. */
  maxActive: number;
  /** How long expired decisions are kept for pulling bouncers, in milliseconds. */
  expiredRetention: number;
}

/**
 * The decisions of one enforcement exporter, in lmdb: active decisions by scope and value, the
 * offense history that makes repeat bans longer, and recently expired decisions, so bouncers that
 * pull learn of removals. Active decisions are also held in memory for lookups. Decisions expire
 * on their own: `expire` moves every decision whose `until` passed to the expired list.
 */
export class DecisionStore {
  private readonly active = new Map<string, Decision>();
  private readonly activeDb: Database<Decision, string>;
  private readonly historyDb: Database<OffenseHistory, string>;
  private readonly expiredDb: Database<ExpiredDecision, number>;
  private nextId = 1;
  private lastPrune = 0;
  private readonly pendingHistory = new Map<string, OffenseHistory>();
  private writes: Promise<unknown>[] = [];

  constructor(private readonly options: DecisionStoreOptions) {
    this.activeDb = options.storage.database<Decision, string>(`decisions/${options.id}`);
    this.historyDb = options.storage.database<OffenseHistory, string>(`decision_history/${options.id}`);
    this.expiredDb = options.storage.database<ExpiredDecision, number>(`decisions_expired/${options.id}`);
    for (const { key, value } of this.activeDb.getRange()) {
      this.active.set(key, value);
      this.nextId = Math.max(this.nextId, value.id + 1);
    }
    for (const key of this.expiredDb.getKeys()) {
      if (typeof key === 'number') this.nextId = Math.max(this.nextId, key + 1);
    }
  }

  get size(): number {
    return this.active.size;
  }

  history(scope: DecisionScope, value: string): OffenseHistory | undefined {
    const key = decisionKey(scope, value);
    return this.pendingHistory.get(key) ?? this.historyDb.get(key);
  }

  find(scope: DecisionScope, value: string): Decision | undefined {
    return this.active.get(decisionKey(scope, value));
  }

  /**
   * Stores a new decision and records the offense, without waiting for the disk; `flush` waits.
   * A decision for a value that is already banned replaces the active one without listing it as
   * expired, because the value stays banned and a bouncer that received the removal could unban
   * it. Returns the stored decision and the decisions expired early to stay within `maxActive`.
   */
  async add(proposal: Omit<Decision, 'id'>, eventAt?: number): Promise<{ decision: Decision; replaced?: Decision; evicted: Decision[] }> {
    const decision: Decision = { ...proposal, id: this.nextId++ };
    const key = decisionKey(decision.scope, decision.value);
    const replaced = this.active.get(key);
    this.active.set(key, decision);
    this.writes.push(this.activeDb.put(key, decision));
    const history: OffenseHistory = { count: decision.offense, last_at: Date.parse(decision.created_at) };
    if (eventAt !== undefined && Number.isFinite(eventAt)) history.event_at = eventAt;
    // lmdb makes a write readable only once it commits, so the next finding for the same value reads the pending offense.
    this.pendingHistory.set(key, history);
    this.writes.push(this.historyDb.put(key, history).finally(() => {
      if (this.pendingHistory.get(key) === history) this.pendingHistory.delete(key);
    }));
    const evicted = await this.evictOverflow(decision.created_at);
    return { decision, replaced, evicted };
  }

  /** Waits until every decision added so far is on disk. */
  async flush(): Promise<void> {
    const writes = this.writes.splice(0);
    if (writes.length === 0) return;
    await Promise.all(writes);
    await this.activeDb.flushed;
  }

  /** Ends every decision whose `until` passed; once a minute also drops expired records past the retention. */
  async expire(now = Date.now()): Promise<Decision[]> {
    const ended: Decision[] = [];
    for (const decision of this.active.values()) {
      if (Date.parse(decision.until) <= now) ended.push(decision);
    }
    for (const decision of ended) await this.moveToExpired(decision, new Date(now).toISOString());
    if (now - this.lastPrune >= PRUNE_INTERVAL_MS) {
      this.lastPrune = now;
      await this.pruneExpired(now);
    }
    return ended;
  }

  /** Active decisions, oldest first. */
  list(): Decision[] {
    return [...this.active.values()].sort((a, b) => a.id - b.id);
  }

  /** The id of the newest decision made so far, 0 before the first. */
  get lastId(): number {
    return this.nextId - 1;
  }

  /** Active decisions with an id above `id`, that is, made after the decision with that id. */
  createdAfter(id: number): Decision[] {
    return this.list().filter((decision) => decision.id > id);
  }

  /** Decisions that expired at or after `since` (milliseconds since the epoch). */
  expiredSince(since: number): ExpiredDecision[] {
    const result: ExpiredDecision[] = [];
    for (const { value } of this.expiredDb.getRange()) {
      if (Date.parse(value.expired_at) >= since) result.push(value);
    }
    return result;
  }

  private async moveToExpired(decision: Decision, expiredAt: string): Promise<void> {
    const key = decisionKey(decision.scope, decision.value);
    if (this.active.get(key) === decision) {
      this.active.delete(key);
      await this.activeDb.remove(key);
    }
    await this.expiredDb.put(decision.id, { ...decision, expired_at: expiredAt });
  }

  private async pruneExpired(now: number): Promise<void> {
    const cutoff = now - this.options.expiredRetention;
    for (const { key, value } of this.expiredDb.getRange()) {
      if (Date.parse(value.expired_at) < cutoff) await this.expiredDb.remove(key);
    }
  }

  private async evictOverflow(at: string): Promise<Decision[]> {
    const evicted: Decision[] = [];
    while (this.active.size > this.options.maxActive) {
      let soonest: Decision | undefined;
      for (const decision of this.active.values()) {
        if (!soonest || decision.until < soonest.until) soonest = decision;
      }
      if (!soonest) break;
      evicted.push(soonest);
      await this.moveToExpired(soonest, at);
    }
    return evicted;
  }
}
