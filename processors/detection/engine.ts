import { createHash, randomUUID } from 'node:crypto';
import type { Evidence, Finding } from '../../core/data/finding.js';
import type { Logger } from '../../core/logger.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import type { Rule } from './rules/types.js';
import type { EventMatch } from './worker.js';

/** Evidence samples a finding carries at most. */
export const MAX_EVIDENCE = 5;

interface WindowState {
  /** Times of the most recent matching events, oldest first, at most `threshold` of them. */
  times: number[];
  /** For distinct rules: value to the time it was last seen. */
  distinct?: Map<string, number>;
  samples: EventMatch[];
}

interface ActiveFinding {
  finding: Finding;
  /** Event time until which further matches count into this finding. */
  suppressUntil: number;
  /** Wall-clock time after which the finding ends even if no later event arrives. */
  wallUntil: number;
  /** The count last emitted, to tell whether an update is due. */
  emittedCount: number;
}

interface RuleState {
  rule: Rule;
  windows: Map<string, WindowState>;
  active: Map<string, ActiveFinding>;
}

export interface EngineOptions {
  rules: Rule[];
  /** The detection processor id, written into each finding's `source`. */
  source: string;
  /** Keys tracked per rule, for windows and for active findings each; the least recently used is evicted past it. */
  maxKeysPerRule: number;
  emit: (findings: Finding[]) => void;
  logger: Logger;
  findingsEmitted?: Counter;
  evictions?: Counter;
  /** The wall clock, replaceable in tests. */
  now?: () => number;
}

/**
 * The stateful half of detection, on the main thread: sliding windows and distinct counts per
 * rule and key, suppression of repeats, and the findings themselves. All of a key's state lives
 * here, in one place, so counts never split across worker threads.
 *
 * Windows run on event time, so replaying a log gives the findings live traffic gave. A finding
 * is emitted when its rule first fires for a key (`status: new`); matches during the suppression
 * period are counted into it, and when the period ends an `update` with the final count is
 * emitted if repeats arrived.
 */
export class DetectionEngine {
  private readonly states: RuleState[];
  private watermark = 0;
  private lastAdvance = 0;
  private readonly now: () => number;

  constructor(private readonly options: EngineOptions) {
    this.states = options.rules.map((rule) => ({ rule, windows: new Map(), active: new Map() }));
    this.now = options.now ?? Date.now;
  }

  /** Feeds the matches of one batch; findings that fire are emitted before this returns. */
  process(matches: EventMatch[]): void {
    const fired: Finding[] = [];
    for (const match of matches) {
      if (match.time > this.watermark) this.watermark = match.time;
      for (const index of match.rules) {
        const state = this.states[index];
        if (!state) continue;
        const finding = this.apply(state, match);
        if (finding) fired.push(finding);
      }
    }
    this.emit(fired);
    // Event time moves suppression periods along, so a replay ends them without waiting for the timer.
    if (this.watermark - this.lastAdvance >= 1000) this.advance();
  }

  /**
   * Ends suppression periods that are over by event time (the latest event seen) or by wall
   * clock, emitting updates for findings that counted repeats. Called on a timer and after replay.
   */
  advance(): void {
    this.lastAdvance = this.watermark;
    const updates: Finding[] = [];
    const wallNow = this.now();
    for (const state of this.states) {
      for (const [key, active] of state.active) {
        if (active.suppressUntil <= this.watermark || active.wallUntil <= wallNow) {
          state.active.delete(key);
          const update = this.finish(active);
          if (update) updates.push(update);
        }
      }
    }
    this.emit(updates);
  }

  /** Ends every active finding now, emitting the pending updates; used at shutdown and at the end of a replay. */
  flush(): void {
    const updates: Finding[] = [];
    for (const state of this.states) {
      for (const active of state.active.values()) {
        const update = this.finish(active);
        if (update) updates.push(update);
      }
      state.active.clear();
    }
    this.emit(updates);
  }

  private emit(findings: Finding[]): void {
    if (findings.length === 0) return;
    for (const finding of findings) this.options.findingsEmitted?.add({ source: this.options.source, rule: finding.rule.id });
    this.options.emit(findings);
  }

  private apply(state: RuleState, match: EventMatch): Finding | undefined {
    const key = keyOf(state.rule, match);
    if (key === undefined) return undefined;
    const active = state.active.get(key);
    if (active) {
      if (match.time < active.suppressUntil) {
        addRepeat(active.finding, match);
        return undefined;
      }
      state.active.delete(key);
      const update = this.finish(active);
      if (update) this.emit([update]);
    }
    const window = this.updateWindow(state, key, match);
    if (!window) return undefined;
    state.windows.delete(key);
    const finding = this.createFinding(state.rule, key, match, window);
    touch(state.active, key, {
      finding,
      suppressUntil: match.time + state.rule.suppress,
      wallUntil: this.now() + state.rule.suppress,
      emittedCount: finding.count,
    }, this.options.maxKeysPerRule, () => this.evicted(state.rule, 'active'));
    return structuredClone(finding);
  }

  /** Adds the match to the key's window; returns the window when the rule's threshold is reached. */
  private updateWindow(state: RuleState, key: string, match: EventMatch): WindowState | undefined {
    const rule = state.rule;
    if (rule.threshold <= 1) return { times: [match.time], samples: [match] };
    let window = state.windows.get(key);
    if (!window) window = { times: [], samples: [], distinct: rule.distinct ? new Map() : undefined };
    touch(state.windows, key, window, this.options.maxKeysPerRule, () => this.evicted(rule, 'window'));

    const start = match.time - rule.window;
    window.samples.push(match);
    if (window.samples.length > MAX_EVIDENCE) window.samples.shift();
    if (window.distinct) {
      const value = String(match.fields[rule.distinct as string] ?? '');
      if (value === '') return undefined;
      window.distinct.delete(value);
      window.distinct.set(value, match.time);
      for (const [seen, time] of window.distinct) {
        if (time >= start) break;
        window.distinct.delete(seen);
      }
      window.times.push(match.time);
      if (window.times.length > rule.threshold) window.times.shift();
      return window.distinct.size >= rule.threshold ? window : undefined;
    }
    window.times.push(match.time);
    if (window.times.length > rule.threshold) window.times.shift();
    return window.times.length >= rule.threshold && window.times[0] >= start ? window : undefined;
  }

  private createFinding(rule: Rule, key: string, match: EventMatch, window: WindowState): Finding {
    const fields = match.fields;
    const text = (name: string) => (fields[name] === undefined ? undefined : String(fields[name]));
    const firstSeen = Math.min(window.times[0] ?? match.time, ...window.samples.map((sample) => sample.time));
    const count = window.distinct ? window.distinct.size : Math.max(window.times.length, 1);
    return {
      id: randomUUID(),
      fingerprint: fingerprint(rule.id, key),
      time: iso(match.time),
      status: 'new',
      rule: { id: rule.id, name: rule.name, owasp: rule.owasp, mitre_attack: rule.mitre_attack, tags: rule.tags.length > 0 ? rule.tags : undefined },
      severity: rule.severity,
      confidence: rule.confidence,
      actor: clean({ address: text('client.address'), identity: text('user.id'), user_agent: text('user_agent.original') }),
      target: clean({ service: text('service.name'), host: text('server.address'), method: text('http.request.method'), path: text('url.path'), route: text('http.route') }),
      key: Object.fromEntries(rule.group_by.map((name) => [name, String(fields[name])])),
      count,
      first_seen: iso(firstSeen),
      last_seen: iso(match.time),
      evidence: window.samples.map(evidence),
      action: rule.action,
      suppress_seconds: rule.suppress / 1000,
      source: this.options.source,
    };
  }

  /** Returns the update to emit for a finding whose suppression ended, if repeats were counted. */
  private finish(active: ActiveFinding): Finding | undefined {
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

function addRepeat(finding: Finding, match: EventMatch): void {
  finding.count++;
  const time = iso(match.time);
  if (time > finding.last_seen) finding.last_seen = time;
  if (finding.evidence.length < MAX_EVIDENCE) finding.evidence.push(evidence(match));
}

function evidence(match: EventMatch): Evidence {
  const sample: Evidence = { time: iso(match.time), summary: match.summary };
  if (match.fields.trace_id !== undefined) sample.trace_id = String(match.fields.trace_id);
  if (match.fields.span_id !== undefined) sample.span_id = String(match.fields.span_id);
  if (match.details.length > 0) sample.detail = match.details.join('; ');
  return sample;
}

/** A stable id for one rule and key: receivers use it to de-duplicate and to resolve alerts. */
export function fingerprint(ruleId: string, key: string): string {
  return createHash('sha256').update(ruleId).update('\u0000').update(key).digest('hex').slice(0, 32);
}

function iso(ms: number): string {
  return new Date(ms > 0 ? ms : 0).toISOString();
}

function clean<T extends Record<string, string | undefined>>(value: T): T {
  for (const key of Object.keys(value)) if (value[key] === undefined) delete value[key];
  return value;
}

/** Sets a map entry as the most recently used; evicts the least recently used past `max`. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number, onEvict: () => void): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value as string;
    map.delete(oldest);
    onEvict();
  }
}
