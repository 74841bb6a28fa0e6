import type { SpanGroup } from '../../helper/otlp-wire.js';
import type { PendingTrace, Policy } from './policies.js';
import type { GroupResult } from './worker.js';
import type { TailSamplingConfig } from './config.js';

/** Spans released for the next consumer: one group per trace, batch, resource and scope. */
export interface Released {
  groups: SpanGroup[];
  spans: number;
}

/** An empty list that pending traces share until they need a list of their own. */
const NONE: never[] = [];

export interface Decision {
  sampled: boolean;
  /** The first policy that sampled the trace; undefined when none did. */
  policy: string | undefined;
  spans: number;
  /** The bound that made the decision come before decision_wait ended, if one did. */
  early?: 'num_traces' | 'max_spans_per_trace';
}

export interface BufferObserver {
  decided(decision: Decision): void;
  late(sampled: boolean, spans: number): void;
}

/** Distinct one-actor lists remembered for sharing, at most; past it the cache starts again. */
const SHARED_ACTOR_LISTS = 65_536;

/** A set of the most recently added keys, at most `capacity` of them; 0 disables it. */
class RecentSet {
  private readonly keys = new Set<string>();

  constructor(private readonly capacity: number) {}

  add(key: string): void {
    if (this.capacity === 0) return;
    this.keys.delete(key);
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value as string);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  delete(key: string): boolean {
    return this.keys.delete(key);
  }
}

/**
 * The traces waiting for a decision, in arrival order, and the decisions remembered for late
 * spans. Time is passed in, so tests can drive it.
 */
export class TraceBuffer {
  private readonly pending = new Map<string, PendingTrace>();
  private readonly sampled: RecentSet;
  private readonly notSampled: RecentSet;
  /**
   * One-actor lists shared by every pending trace of that actor. Most traces have one client, and
   * a list and string of their own for each of them took more memory than the rest of the trace.
   */
  private readonly actorLists = new Map<string, readonly string[]>();

  constructor(private readonly config: TailSamplingConfig, private readonly policies: Policy[], private readonly observer: BufferObserver) {
    this.sampled = new RecentSet(config.decision_cache.sampled_cache_size);
    this.notSampled = new RecentSet(config.decision_cache.non_sampled_cache_size);
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds a batch: the worker's summaries and the batch's spans grouped by trace. Returns two
   * releases. `late` contains spans of traces already sampled, which the caller passes on with the
   * batch. `early` contains traces decided before their wait ended, because a bound was reached.
   */
  add(result: GroupResult, slices: Map<string, SpanGroup[]>, nowMs: number): { late: Released; early: Released } {
    const late: Released = { groups: [], spans: 0 };
    const early: Released = { groups: [], spans: 0 };
    for (const fragment of result.traces) {
      const groups = slices.get(fragment.traceId);
      if (!groups) continue;
      let trace = this.pending.get(fragment.traceId);
      const isNew = !trace;
      if (!trace) {
        if (this.sampled.has(fragment.traceId)) {
          late.groups.push(...groups);
          late.spans += fragment.spans;
          this.observer.late(true, fragment.spans);
          continue;
        }
        if (this.notSampled.has(fragment.traceId)) {
          this.observer.late(false, fragment.spans);
          continue;
        }
        if (this.pending.size >= this.config.num_traces) {
          const oldest = this.pending.values().next().value as PendingTrace;
          this.decide(oldest, nowMs, early, 'num_traces');
        }
        trace = { traceId: fragment.traceId, groups, spans: 0, startMs: Infinity, endMs: -Infinity, statuses: 0, matched: NONE, marks: 0, actors: NONE, arrivedMs: nowMs };
        this.pending.set(fragment.traceId, trace);
      }
      if (!isNew) trace.groups = [...trace.groups, ...groups];
      trace.spans += fragment.spans;
      trace.startMs = Math.min(trace.startMs, fragment.startMs);
      trace.endMs = Math.max(trace.endMs, fragment.endMs);
      trace.statuses |= fragment.statuses;
      trace.marks |= fragment.marks;
      for (const index of fragment.matched) if (!trace.matched.includes(index)) trace.matched = trace.matched.concat(index);
      if (trace.actors === NONE) trace.actors = this.sharedActors(fragment.actors);
      else for (const actor of fragment.actors) if (!trace.actors.includes(actor)) trace.actors = trace.actors.concat(actor);
      if (trace.spans >= this.config.max_spans_per_trace) this.decide(trace, nowMs, early, 'max_spans_per_trace');
    }
    return { late, early };
  }

  /** Returns the list, or the same list shared from an earlier trace when it has one actor. */
  private sharedActors(actors: string[]): readonly string[] {
    if (actors.length !== 1) return actors.length === 0 ? NONE : actors;
    const shared = this.actorLists.get(actors[0]);
    if (shared) return shared;
    if (this.actorLists.size >= SHARED_ACTOR_LISTS) this.actorLists.clear();
    this.actorLists.set(actors[0], actors);
    return actors;
  }

  /** Decides every trace whose decision_wait has ended. */
  releaseDue(nowMs: number): Released {
    const released: Released = { groups: [], spans: 0 };
    for (const trace of this.pending.values()) {
      if (trace.arrivedMs + this.config.decision_wait > nowMs) break;
      this.decide(trace, nowMs, released);
    }
    return released;
  }

  /** Decides every pending trace now, on the spans it has; used at shutdown. */
  releaseAll(nowMs: number): Released {
    const released: Released = { groups: [], spans: 0 };
    for (const trace of [...this.pending.values()]) this.decide(trace, nowMs, released);
    return released;
  }

  /** Turns remembered "not sampled" decisions into "sampled", for traces a finding cites later. */
  promote(traceIds: Iterable<string>): void {
    for (const traceId of traceIds) {
      if (this.notSampled.delete(traceId)) this.sampled.add(traceId);
    }
  }

  private decide(trace: PendingTrace, nowMs: number, into: Released, early?: Decision['early']): void {
    this.pending.delete(trace.traceId);
    let policy: string | undefined;
    // Every policy runs, as in the Collector, so rate limits count every trace they would take.
    for (const candidate of this.policies) {
      if (candidate.evaluate(trace, nowMs)) policy ??= candidate.name;
    }
    const sampled = policy !== undefined;
    if (sampled) {
      into.groups.push(...trace.groups);
      into.spans += trace.spans;
      this.sampled.add(trace.traceId);
    } else {
      this.notSampled.add(trace.traceId);
    }
    this.observer.decided({ sampled, policy, spans: trace.spans, early });
  }
}
