import type { BaselineTrigger, BucketTrigger, CountTrigger, DistinctTrigger, SequenceTrigger, Trigger } from './rules/types.js';
import type { EventMatch } from './worker.js';
import { ownCopy } from './bounded-map.js';

/*
 * The per-key state of each stateful trigger, as plain objects so that they can be saved to
 * lmdb as they are, and the step function that adds one matching event to it. Every collection
 * is bounded: window times by the threshold, distinct values by DISTINCT_CAP, samples by
 * MAX_SAMPLES. Times are event times in milliseconds.
 */

/** Sample events kept per key for a finding's evidence. */
export const MAX_SAMPLES = 5;

/** A trigger's report when it fires: the evidence, the count to report, and where the counted events began. */
export interface Fire {
  samples: EventMatch[];
  count: number;
  firstSeen: number;
  /** A line on why it fired, for stateful triggers whose reason is not visible in one event. */
  reason?: string;
}

export interface CountState {
  kind: 'count';
  /** Event times in the window, ascending, at most `threshold`. */
  times: number[];
  /** 1 where the event at the same index met the `share` condition. */
  flags: number[];
  samples: EventMatch[];
}

export interface DistinctState {
  kind: 'distinct';
  /**
   * Per distinct value, its latest time and 1 when that event met the `share` condition, least
   * recent first. A Map while the engine runs, and the same entries as an array in saved state.
   */
  values: Map<string, [number, number]> | [string, number, number][];
  /** How many values met the `share` condition. */
  shared?: number;
  samples: EventMatch[];
}

export interface BucketState {
  kind: 'bucket';
  level: number;
  last: number;
  samples: EventMatch[];
}

export interface SequenceState {
  kind: 'sequence';
  step: number;
  /** Times counted for the current step, at most its count. */
  times: number[];
  /** Time of the first event of the completed first step. */
  started: number;
  samples: EventMatch[];
}

export interface BaselineState {
  kind: 'baseline';
  /** Start of the interval being filled. */
  start: number;
  count: number;
  errors: number;
  sum: number;
  /** Learned mean and variance of the metric per interval (exponentially weighted). */
  mean: number;
  variance: number;
  /** Intervals learned from. */
  learned: number;
  samples: EventMatch[];
}

export type TriggerState = CountState | DistinctState | BucketState | SequenceState | BaselineState;

/** Distinct values kept per key at most, as a multiple of the threshold, when a share or sequence requirement is not met yet. */
const DISTINCT_CAP_FACTOR = 4;
/** Weight of the newest interval in a baseline's mean and variance. */
const BASELINE_ALPHA = 0.1;

export function newState(trigger: Trigger, time: number): TriggerState | undefined {
  switch (trigger.kind) {
    case 'count': return { kind: 'count', times: [], flags: [], samples: [] };
    case 'distinct': return { kind: 'distinct', values: new Map(), shared: 0, samples: [] };
    case 'bucket': return { kind: 'bucket', level: 0, last: time, samples: [] };
    case 'sequence': return { kind: 'sequence', step: 0, times: [], started: 0, samples: [] };
    case 'baseline': return { kind: 'baseline', start: intervalStart(time, trigger.interval), count: 0, errors: 0, sum: 0, mean: 0, variance: 0, learned: 0, samples: [] };
    default: return undefined;
  }
}

/**
 * Returns the samples with `match` added, the oldest dropped past MAX_SAMPLES. Below the cap the
 * list is copied one longer; at the cap it moves in place. A push onto `[]` reserves 17 slots, and
 * a shift trims the front so the next push reserves again: at 20,000 keys, 6 MiB of empty slots.
 */
function keepSample(samples: EventMatch[], match: EventMatch): EventMatch[] {
  if (samples.length < MAX_SAMPLES) return samples.concat(match);
  samples.copyWithin(0, 1);
  samples[samples.length - 1] = match;
  return samples;
}

const NO_NUMBERS: number[] = [];

/**
 * Returns a copy of the match with only what a finding's evidence shows: time, summary, details,
 * trace and span id. Windows, buckets and sequences keep these copies as samples. A finding takes
 * its actor and target from the event that fires it, so the other fields are not needed, and
 * they were most of detection's memory. One copy per event serves every rule.
 */
export function evidenceSample(match: EventMatch): EventMatch {
  if (match.evidence) return match.evidence;
  const fields: Record<string, string | number> = {};
  if (match.fields.trace_id !== undefined) fields.trace_id = match.fields.trace_id;
  if (match.fields.span_id !== undefined) fields.span_id = match.fields.span_id;
  // The summary is often a slice of the worker's packed result, which it would keep alive.
  const copy: EventMatch = { rules: NO_NUMBERS, marks: NO_NUMBERS, time: match.time, fields, summary: ownCopy(match.summary), details: match.details };
  // Kept on the event rather than in a WeakMap, whose entries cost every garbage collection.
  match.evidence = copy;
  return copy;
}

/** Inserts `time` keeping `times` ascending (events may arrive slightly out of order); returns the index. */
function insertSorted(times: number[], time: number): number {
  let index = times.length;
  while (index > 0 && times[index - 1] > time) index--;
  times.splice(index, 0, time);
  return index;
}

function applyCount(state: CountState, trigger: CountTrigger, match: EventMatch, marked: boolean): Fire | undefined {
  const index = insertSorted(state.times, match.time);
  state.flags.splice(index, 0, marked ? 1 : 0);
  const start = match.time - trigger.window;
  while (state.times.length > 0 && (state.times[0] < start || state.times.length > trigger.threshold)) {
    state.times.shift();
    state.flags.shift();
  }
  state.samples = keepSample(state.samples, evidenceSample(match));
  if (state.times.length < trigger.threshold) return undefined;
  if (trigger.share) {
    const share = state.flags.reduce((sum, flag) => sum + flag, 0) / state.times.length;
    if (share < trigger.share.min) return undefined;
  }
  return { samples: state.samples, count: state.times.length, firstSeen: state.times[0] };
}

/** Returns the length of the longest run of consecutive integers among the values. */
export function longestRun(values: string[]): number {
  const numbers = new Set<number>();
  for (const value of values) if (/^\d{1,15}$/.test(value)) numbers.add(Number(value));
  let longest = 0;
  for (const number of numbers) {
    if (numbers.has(number - 1)) continue;
    let length = 1;
    while (numbers.has(number + length)) length++;
    if (length > longest) longest = length;
  }
  return longest;
}

function applyDistinct(state: DistinctState, trigger: DistinctTrigger, match: EventMatch, marked: boolean): Fire | undefined {
  const value = match.fields[trigger.field];
  if (value === undefined || value === '') return undefined;
  const values = distinctValues(state);
  const text = String(value);
  const flag = marked ? 1 : 0;
  const existing = values.get(text);
  if (existing) {
    // A repeat is updated in place, because moving it to the end costs a delete and an insert.
    // Entries behind it that the window left are found by the sweep before judging.
    state.shared = (state.shared ?? 0) + flag - existing[1];
    existing[0] = match.time;
    existing[1] = flag;
  } else {
    values.set(text, [match.time, flag]);
    state.shared = (state.shared ?? 0) + flag;
  }

  const start = match.time - trigger.window;
  const cap = trigger.threshold * DISTINCT_CAP_FACTOR;
  // Oldest insertion first: drop values older than the window and any past the cap.
  for (const [oldest, entry] of values) {
    if (entry[0] >= start && values.size <= cap) break;
    values.delete(oldest);
    state.shared -= entry[1];
  }
  state.samples = keepSample(state.samples, evidenceSample(match));

  if (values.size >= trigger.threshold) sweepDistinct(state, values, start);
  const size = values.size;
  if (size < trigger.threshold) return undefined;
  const reasons: string[] = [];
  if (trigger.share) {
    const share = (state.shared ?? 0) / size;
    if (share >= trigger.share.min) reasons.push(`${Math.round(share * 100)}% of them matched the share condition`);
  }
  if (trigger.sequential) {
    const run = longestRun([...values.keys()]);
    if (run >= trigger.sequential) reasons.push(`${run} consecutive values`);
  }
  if ((trigger.share || trigger.sequential) && reasons.length === 0) return undefined;
  let firstSeen = Infinity;
  for (const [time] of values.values()) if (time < firstSeen) firstSeen = time;
  return { samples: state.samples, count: size, firstSeen, reason: `${size} distinct ${trigger.field} values${reasons.length > 0 ? `; ${reasons.join('; ')}` : ''}` };
}

/** Drops every value older than the window, wherever it sits in the map. */
function sweepDistinct(state: DistinctState, values: Map<string, [number, number]>, start: number): void {
  for (const [text, entry] of values) {
    if (entry[0] >= start) continue;
    values.delete(text);
    state.shared = (state.shared ?? 0) - entry[1];
  }
}

/** Returns the live map of a distinct state, converting saved state (an array) on first use. */
function distinctValues(state: DistinctState): Map<string, [number, number]> {
  if (state.values instanceof Map) return state.values;
  const values = new Map<string, [number, number]>();
  let shared = 0;
  for (const [text, time, flag] of state.values) {
    values.delete(text);
    values.set(text, [time, flag]);
  }
  for (const [, flag] of values.values()) shared += flag;
  state.values = values;
  state.shared = shared;
  return values;
}

/** Returns a trigger state in the form it is saved in: plain arrays and objects only. */
export function savedState(state: TriggerState): TriggerState {
  if (state.kind !== 'distinct' || !(state.values instanceof Map)) return state;
  const values: [string, number, number][] = [];
  for (const [text, [time, flag]] of state.values) values.push([text, time, flag]);
  return { kind: 'distinct', values, samples: state.samples };
}

/** Returns saved trigger state as the engine runs it. */
export function liveState(state: TriggerState): TriggerState {
  if (state.kind === 'distinct') distinctValues(state);
  return state;
}

function applyBucket(state: BucketState, trigger: BucketTrigger, match: EventMatch): Fire | undefined {
  const elapsed = Math.max(0, match.time - state.last) / 1000;
  state.level = Math.max(0, state.level - elapsed * trigger.leakRate) + 1;
  state.last = Math.max(state.last, match.time);
  state.samples = keepSample(state.samples, evidenceSample(match));
  if (state.level <= trigger.capacity) return undefined;
  const count = Math.round(state.level);
  return { samples: state.samples, count, firstSeen: state.samples[0].time, reason: `bucket overflowed: level ${count} over capacity ${trigger.capacity}, leaking ${trigger.leakRate}/s` };
}

function applySequence(state: SequenceState, trigger: SequenceTrigger, match: EventMatch, marks: number): Fire | undefined {
  const matchesStep = (step: number) => (marks & (1 << step)) !== 0;
  if (state.step > 0 && match.time - state.started > trigger.within) {
    state.step = 0;
    state.times = [];
  }
  if (state.step === 0 || matchesStep(state.step)) {
    if (!matchesStep(state.step)) {
      // A later step's event before the first step is complete starts the sequence over.
      if (marks !== 0) state.times = [];
      return undefined;
    }
    insertSorted(state.times, match.time);
    const start = match.time - trigger.within;
    const needed = trigger.steps[state.step].count;
    while (state.times.length > 0 && ((state.step === 0 && state.times[0] < start) || state.times.length > needed)) state.times.shift();
    state.samples = keepSample(state.samples, evidenceSample(match));
    if (state.times.length < needed) return undefined;
    if (state.step === 0) state.started = state.times[0];
    state.step++;
    state.times = [];
    if (state.step < trigger.steps.length) return undefined;
    const count = trigger.steps.reduce((sum, step) => sum + step.count, 0);
    return { samples: state.samples, count, firstSeen: state.started, reason: `sequence of ${trigger.steps.map((step) => step.count).join(' then ')} matching events completed` };
  }
  // An event of an earlier step while a later one is awaited changes nothing; one of a later step starts over.
  const later = trigger.steps.some((_, step) => step > state.step && matchesStep(step));
  if (later) {
    state.step = 0;
    state.times = [];
  }
  return undefined;
}

function intervalStart(time: number, interval: number): number {
  return Math.floor(time / interval) * interval;
}

function metricValue(state: BaselineState, trigger: BaselineTrigger): number {
  if (trigger.metric === 'error_rate') return state.errors / state.count;
  return state.sum / state.count;
}

function formatMetric(value: number, trigger: BaselineTrigger): string {
  if (trigger.metric === 'error_rate') return `${(value * 100).toFixed(1)}% server errors`;
  if (trigger.metric === 'latency') return `mean latency ${value.toFixed(3)} s`;
  return `mean response size ${Math.round(value)} bytes`;
}

/**
 * Closes the interval being filled: judges it against the learned baseline, then learns from it
 * unless it fired. Intervals below the minimum volume are neither judged nor learned.
 */
export function closeInterval(state: BaselineState, trigger: BaselineTrigger): Fire | undefined {
  if (state.count < trigger.minVolume) return undefined;
  const value = metricValue(state, trigger);
  const deviation = Math.sqrt(state.variance);
  const anomalous = state.learned >= trigger.warmup && value >= trigger.minValue && value > state.mean * trigger.factor && value > state.mean + 3 * deviation;
  if (anomalous) {
    return {
      samples: [...state.samples],
      count: state.count,
      firstSeen: state.start,
      reason: `${formatMetric(value, trigger)} over ${state.count} requests in ${trigger.interval / 1000} s; baseline ${formatMetric(state.mean, trigger)}`,
    };
  }
  if (state.learned === 0) {
    state.mean = value;
  } else {
    const difference = value - state.mean;
    state.mean += BASELINE_ALPHA * difference;
    state.variance = (1 - BASELINE_ALPHA) * (state.variance + BASELINE_ALPHA * difference * difference);
  }
  state.learned++;
  return undefined;
}

function resetInterval(state: BaselineState, start: number): void {
  state.start = start;
  state.count = 0;
  state.errors = 0;
  state.sum = 0;
  state.samples = [];
}

/** Closes the baseline's interval when `time` lies past it; returns a fire for the closed interval. */
export function rollBaseline(state: BaselineState, trigger: BaselineTrigger, time: number): Fire | undefined {
  if (time < state.start + trigger.interval) return undefined;
  const fire = closeInterval(state, trigger);
  resetInterval(state, intervalStart(time, trigger.interval));
  return fire;
}

function applyBaseline(state: BaselineState, trigger: BaselineTrigger, match: EventMatch): Fire | undefined {
  const fire = rollBaseline(state, trigger, match.time);
  if (match.time < state.start) return fire;
  const status = Number(match.fields['http.response.status_code']);
  const isError = status >= 500;
  state.count++;
  if (isError) state.errors++;
  if (trigger.metric === 'latency') state.sum += Number(match.fields['http.server.request.duration'] ?? 0) || 0;
  if (trigger.metric === 'response_size') state.sum += Number(match.fields['http.response.body.size'] ?? 0) || 0;
  // Keep samples that show the anomaly: errors for the error rate, the rest as they come.
  if (trigger.metric !== 'error_rate' || isError) state.samples = keepSample(state.samples, match);
  return fire;
}

/** Adds one matching event to a key's state; returns a fire when the trigger's condition is met. */
export function applyMatch(state: TriggerState, trigger: Trigger, match: EventMatch, marks: number): Fire | undefined {
  if (state.kind === 'count' && trigger.kind === 'count') return applyCount(state, trigger, match, (marks & 1) !== 0);
  if (state.kind === 'distinct' && trigger.kind === 'distinct') return applyDistinct(state, trigger, match, (marks & 1) !== 0);
  if (state.kind === 'bucket' && trigger.kind === 'bucket') return applyBucket(state, trigger, match);
  if (state.kind === 'sequence' && trigger.kind === 'sequence') return applySequence(state, trigger, match, marks);
  if (state.kind === 'baseline' && trigger.kind === 'baseline') return applyBaseline(state, trigger, match);
  return undefined;
}

/** Reports whether a trigger's state ends when it fires (windows, buckets, sequences) rather than carrying on (baselines learn). */
export function resetsOnFire(trigger: Trigger): boolean {
  return trigger.kind !== 'baseline';
}

/** Returns how far back in event time a trigger looks, for telling saved state from a replay of older events. */
export function horizon(trigger: Trigger): number {
  switch (trigger.kind) {
    case 'count': case 'distinct': return trigger.window;
    case 'bucket': return (trigger.capacity / trigger.leakRate) * 1000;
    case 'sequence': return trigger.within;
    case 'baseline': return trigger.interval;
    default: return 0;
  }
}
