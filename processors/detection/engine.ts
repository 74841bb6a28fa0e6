import { createHash, randomUUID } from 'node:crypto';
import type { Evidence, Finding } from '../../core/data/finding.js';
import type { Logger } from '../../core/logger.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import type { Rule } from './rules/types.js';
import type { EventMatch } from './worker.js';
import { applyMatch, horizon, liveState, newState, resetsOnFire, rollBaseline, savedState, type Fire, type TriggerState } from './state.js';
import { BoundedMap } from './bounded-map.js';
import { redactPath } from './redact.js';

/** Evidence samples a finding carries at most. */
export const MAX_EVIDENCE = 5;

/** Event fields that hold a URL path, which may carry secrets such as `;jsessionid=…`. */
const PATH_FIELDS = new Set(['url.path', 'http.route']);

interface ActiveFinding {
  finding: Finding;
  /** Event time until which further matches count into this finding. */
  suppressUntil: number;
  /** Wall-clock time after which the finding ends even if no later event arrives. */
  wallUntil: number;
  /** The count last emitted, to tell whether an update is due. */
  emittedCount: number;
  /**
   * The latest event time counted, in milliseconds, when it is later than `finding.last_seen`.
   * Repeats only raise this number, because formatting a date per repeat cost more than counting
   * it. `finding.last_seen` is written from it when the finding is emitted or saved.
   */
  lastSeenMs?: number;
}

interface RuleState {
  rule: Rule;
  /** Trigger state per key, about least recently used first. */
  states: BoundedMap<TriggerState>;
  active: BoundedMap<ActiveFinding>;
}

/** The engine's state as saved to storage; `shape` shows whether a rule changed since. */
export interface EngineSnapshot {
  version: 1;
  /** Latest event time seen. */
  watermark: number;
  rules: { id: string; shape: string; states: [string, TriggerState][]; active: [string, ActiveFinding][] }[];
}

export interface EngineOptions {
  rules: Rule[];
  /** The detection processor id, written into each finding's `source`. */
  source: string;
  /** Keys tracked per rule, for trigger state and for active findings each; about the least recently used is evicted past it. */
  maxKeysPerRule: number;
  emit: (findings: Finding[]) => void;
  logger: Logger;
  findingsEmitted?: Counter;
  evictions?: Counter;
  /** The wall clock, replaceable in tests. */
  now?: () => number;
}

/** Computes the stable id of one rule and key, which receivers use to de-duplicate and to resolve alerts. */
export function fingerprint(ruleId: string, key: string): string {
  return createHash('sha256').update(ruleId).update('\u0000').update(key).digest('hex').slice(0, 32);
}

function ruleShape(rule: Rule): string {
  return JSON.stringify({ trigger: rule.trigger, group_by: rule.group_by });
}

/**
 * The stateful half of detection, on the main thread: windows, distinct counts, leaky buckets,
 * sequences and baselines per rule and key, suppression of repeats, and the findings themselves.
 * All of a key's state lives here, in one place, so counts never split across worker threads.
 *
 * Everything runs on event time, so replaying a log gives the findings live traffic gave. A
 * finding is emitted when its rule first fires for a key (`status: new`). Matches during the
 * suppression period are counted into it. When the period ends, an `update` with the final count
 * is emitted if repeats arrived.
 */
export class DetectionEngine {
  private readonly rules: RuleState[];
  private watermark = 0;
  private lastAdvance = 0;
  /** The watermark of restored state; events far older than it mean a replay of the past, which the state does not describe. */
  private restoredWatermark = 0;
  private readonly now: () => number;

  constructor(private readonly options: EngineOptions) {
    this.rules = options.rules.map((rule) => ({
      rule,
      states: new BoundedMap<TriggerState>(options.maxKeysPerRule, () => this.evicted(rule, 'window')),
      active: new BoundedMap<ActiveFinding>(options.maxKeysPerRule, () => this.evicted(rule, 'active')),
    }));
    this.now = options.now ?? Date.now;
  }

  /** Feeds the matches of one batch; findings that fire are emitted before this returns. */
  process(matches: EventMatch[]): void {
    if (matches.length === 0) return;
    this.dropStaleRestore(matches);
    const fired: Finding[] = [];
    for (const match of matches) {
      if (match.time > this.watermark) this.watermark = match.time;
      for (let position = 0; position < match.rules.length; position++) {
        const state = this.rules[match.rules[position]];
        if (!state) continue;
        const finding = this.apply(state, match, match.marks?.[position] ?? 0, fired);
        if (finding) fired.push(finding);
      }
    }
    this.emit(fired);
    // Event time moves suppression periods and baseline intervals along, so a replay ends them without waiting for the timer.
    if (this.watermark - this.lastAdvance >= 1000) this.advance();
  }

  /**
   * Ends suppression periods that are over by event time (the latest event seen) or by wall
   * clock, emitting updates for findings that counted repeats, and closes baseline intervals
   * that event time has passed. Called on a timer and after replay.
   */
  advance(): void {
    this.lastAdvance = this.watermark;
    const emitted: Finding[] = [];
    const wallNow = this.now();
    for (const state of this.rules) {
      for (const [key, active] of state.active) {
        if (active.suppressUntil <= this.watermark || active.wallUntil <= wallNow) {
          state.active.delete(key);
          const update = this.finish(active);
          if (update) emitted.push(update);
        }
      }
      if (state.rule.trigger.kind === 'baseline') this.closeBaselines(state, emitted);
    }
    this.emit(emitted);
  }

  /** Ends every active finding now, emitting the pending updates; used at the end of a replay. */
  flush(): void {
    const updates: Finding[] = [];
    for (const state of this.rules) {
      for (const active of state.active.values()) {
        const update = this.finish(active);
        if (update) updates.push(update);
      }
      state.active.clear();
    }
    this.emit(updates);
  }

  /**
   * Emits pending updates but keeps active findings, so that after a restart with the saved
   * state a repeat is still counted into the same finding instead of raising a new one.
   */
  emitPendingUpdates(): void {
    const updates: Finding[] = [];
    for (const state of this.rules) {
      for (const active of state.active.values()) {
        const update = this.finish(active);
        if (!update) continue;
        active.emittedCount = active.finding.count;
        updates.push(update);
      }
    }
    this.emit(updates);
  }

  /** Copies the state for saving. Rules are matched on restore by id and by the shape of their trigger. */
  snapshot(): EngineSnapshot {
    return {
      version: 1,
      watermark: this.watermark,
      rules: this.rules.map((state) => ({
        id: state.rule.id,
        shape: ruleShape(state.rule),
        states: [...state.states].map(([key, value]): [string, TriggerState] => [key, savedState(value)]),
        active: [...state.active].map(([key, active]): [string, ActiveFinding] => {
          syncLastSeen(active);
          return [key, active];
        }),
      })),
    };
  }

  /** Loads saved state; rules that changed or are gone since are skipped. Returns the number of keys restored. */
  restore(snapshot: EngineSnapshot): number {
    if (snapshot.version !== 1) return 0;
    let restored = 0;
    for (const saved of snapshot.rules) {
      const state = this.rules.find((candidate) => candidate.rule.id === saved.id);
      if (!state || ruleShape(state.rule) !== saved.shape) continue;
      for (const [key, value] of saved.states.slice(-this.options.maxKeysPerRule)) state.states.set(key, liveState(value));
      for (const [key, value] of saved.active.slice(-this.options.maxKeysPerRule)) state.active.set(key, value);
      restored += state.states.size + state.active.size;
    }
    this.watermark = Math.max(this.watermark, snapshot.watermark);
    this.lastAdvance = this.watermark;
    this.restoredWatermark = snapshot.watermark;
    return restored;
  }

  /** Keys held per rule, for tests and metrics. */
  keys(ruleId: string): number {
    return this.rules.find((state) => state.rule.id === ruleId)?.states.size ?? 0;
  }

  /**
   * Forgets restored state when the first events are older than it by more than any rule looks
   * back: they come from a replay of the past, not from after the restart.
   */
  private dropStaleRestore(matches: EventMatch[]): void {
    if (this.restoredWatermark === 0) return;
    const earliest = Math.min(...matches.map((match) => match.time));
    const lookBack = Math.max(60_000, ...this.rules.map((state) => horizon(state.rule.trigger)));
    if (earliest < this.restoredWatermark - lookBack) {
      for (const state of this.rules) {
        state.states.clear();
        state.active.clear();
      }
      this.watermark = 0;
      this.lastAdvance = 0;
      this.options.logger.info({ saved_until: new Date(this.restoredWatermark).toISOString(), first_event: new Date(earliest).toISOString() }, 'events predate the saved detection state; starting from empty state');
    }
    this.restoredWatermark = 0;
  }

  private emit(findings: Finding[]): void {
    if (findings.length === 0) return;
    for (const finding of findings) this.options.findingsEmitted?.add({ source: this.options.source, rule: finding.rule.id });
    this.options.emit(findings);
  }

  private apply(state: RuleState, match: EventMatch, marks: number, fired: Finding[]): Finding | undefined {
    const key = keyOf(state.rule, match);
    if (key === undefined) return undefined;
    const active = state.active.size > 0 ? state.active.get(key) : undefined;
    if (active) {
      if (match.time < active.suppressUntil && state.rule.trigger.kind !== 'baseline') {
        addRepeat(active, match);
        return undefined;
      }
      if (match.time >= active.suppressUntil) {
        state.active.delete(key);
        const update = this.finish(active);
        if (update) fired.push(update);
      }
    }
    const fire = this.step(state, key, match, marks);
    return fire ? this.raise(state, key, match, fire) : undefined;
  }

  /** Runs the rule's trigger for one event; returns a fire when it is met. */
  private step(state: RuleState, key: string, match: EventMatch, marks: number): Fire | undefined {
    const trigger = state.rule.trigger;
    if (trigger.kind === 'single') return { samples: [match], count: 1, firstSeen: match.time };
    let keyState = state.states.get(key);
    if (!keyState) {
      keyState = newState(trigger, match.time) as TriggerState;
      state.states.set(key, keyState);
    }
    const fire = applyMatch(keyState, trigger, match, marks);
    if (fire && resetsOnFire(trigger)) state.states.delete(key);
    return fire;
  }

  /** Raises a finding for a fire, or counts it into the key's active finding (a baseline fires each anomalous interval). */
  private raise(state: RuleState, key: string, match: EventMatch, fire: Fire): Finding | undefined {
    const active = state.active.get(key);
    if (active) {
      syncLastSeen(active);
      active.finding.count += fire.count;
      active.finding.last_seen = iso(Math.max(match.time, Date.parse(active.finding.last_seen)));
      return undefined;
    }
    const finding = this.createFinding(state.rule, key, match, fire);
    state.active.set(key, {
      finding,
      suppressUntil: match.time + state.rule.suppress,
      wallUntil: this.now() + state.rule.suppress,
      emittedCount: finding.count,
    });
    return structuredClone(finding);
  }

  private closeBaselines(state: RuleState, emitted: Finding[]): void {
    const trigger = state.rule.trigger;
    if (trigger.kind !== 'baseline') return;
    for (const [key, keyState] of state.states) {
      if (keyState.kind !== 'baseline' || this.watermark < keyState.start + trigger.interval) continue;
      const fire = rollBaseline(keyState, trigger, this.watermark);
      const sample = fire?.samples[fire.samples.length - 1];
      if (!fire || !sample) continue;
      const finding = this.raise(state, key, sample, fire);
      if (finding) emitted.push(finding);
    }
  }

  private createFinding(rule: Rule, key: string, match: EventMatch, fire: Fire): Finding {
    const fields = match.fields;
    const text = (name: string) => (fields[name] === undefined ? undefined : String(fields[name]));
    // Paths and routes are masked as in evidence summaries. The fingerprint still comes from the unmasked key.
    const maskedText = (name: string) => {
      const value = text(name);
      return value !== undefined && PATH_FIELDS.has(name) ? redactPath(value) : value;
    };
    const evidence = fire.samples.slice(-MAX_EVIDENCE).map(evidenceOf);
    if (fire.reason && evidence.length > 0) evidence[evidence.length - 1].detail = [evidence[evidence.length - 1].detail, fire.reason].filter(Boolean).join('; ');
    const lastSeen = Math.max(match.time, ...fire.samples.map((sample) => sample.time));
    return {
      id: randomUUID(),
      fingerprint: fingerprint(rule.id, key),
      time: iso(lastSeen),
      status: 'new',
      rule: { id: rule.id, name: rule.name, owasp: rule.owasp, mitre_attack: rule.mitre_attack, tags: rule.tags.length > 0 ? rule.tags : undefined },
      severity: rule.severity,
      confidence: rule.confidence,
      // A baseline judges a route over many clients, so no single one is its actor.
      actor: rule.trigger.kind === 'baseline' ? {} : clean({ address: text('client.address'), identity: text('user.id'), api_key_fingerprint: text('api_key.fingerprint'), user_agent: text('user_agent.original') }),
      target: clean({ service: text('service.name'), host: text('server.address'), method: text('http.request.method'), path: maskedText('url.path'), route: maskedText('http.route') }),
      key: Object.fromEntries(rule.group_by.map((name) => [name, maskedText(name) ?? String(fields[name])])),
      count: fire.count,
      first_seen: iso(Math.min(fire.firstSeen, lastSeen)),
      last_seen: iso(lastSeen),
      evidence,
      action: rule.action,
      suppress_seconds: rule.suppress / 1000,
      source: this.options.source,
    };
  }

  /** Returns the update to emit for a finding whose suppression ended, if repeats were counted. */
  private finish(active: ActiveFinding): Finding | undefined {
    syncLastSeen(active);
    if (active.finding.count <= active.emittedCount) return undefined;
    return { ...structuredClone(active.finding), id: randomUUID(), status: 'update', time: active.finding.last_seen };
  }

  private evicted(rule: Rule, kind: 'window' | 'active'): void {
    this.options.evictions?.add({ source: this.options.source, rule: rule.id, state: kind });
  }
}

function keyOf(rule: Rule, match: EventMatch): string | undefined {
  if (rule.group_by.length === 1) {
    const value = match.fields[rule.group_by[0]];
    return value === undefined ? undefined : String(value);
  }
  const parts: string[] = [];
  for (const name of rule.group_by) {
    const value = match.fields[name];
    if (value === undefined) return undefined;
    parts.push(String(value));
  }
  return parts.join('\u0000');
}

function addRepeat(active: ActiveFinding, match: EventMatch): void {
  const finding = active.finding;
  finding.count++;
  if (match.time > (active.lastSeenMs ?? 0)) active.lastSeenMs = match.time;
  if (finding.evidence.length < MAX_EVIDENCE) finding.evidence.push(evidenceOf(match));
}

/** Writes a repeat's later event time into the finding's `last_seen`. */
function syncLastSeen(active: ActiveFinding): void {
  if (active.lastSeenMs === undefined) return;
  const time = iso(active.lastSeenMs);
  if (time > active.finding.last_seen) active.finding.last_seen = time;
  active.lastSeenMs = undefined;
}

function evidenceOf(match: EventMatch): Evidence {
  const sample: Evidence = { time: iso(match.time), summary: match.summary };
  if (match.fields.trace_id !== undefined) sample.trace_id = String(match.fields.trace_id);
  if (match.fields.span_id !== undefined) sample.span_id = String(match.fields.span_id);
  if (match.details.length > 0) sample.detail = match.details.join('; ');
  return sample;
}

function iso(ms: number): string {
  return new Date(ms > 0 ? ms : 0).toISOString();
}

function clean<T extends Record<string, string | undefined>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}
