import type { Confidence, Severity, SuggestedAction } from '../../../core/data/finding.js';

/** A condition on one event, as rule files write it; see the rule language in the detection README. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { detector: string }
  | { macro: string }
  | { api_spec: ApiSpecCheck }
  | FieldCondition;

/** What the `api_spec` condition checks against the configured OpenAPI document. */
export type ApiSpecCheck = 'undocumented' | 'deprecated' | 'documented';

export interface FieldCondition {
  field: string;
  equals?: string | number | boolean;
  in?: (string | number)[];
  /** The name of a list defined under `lists:`. */
  in_list?: string;
  contains?: string[];
  starts_with?: string[];
  ends_with?: string[];
  regex?: string;
  cidr?: string[];
  exists?: boolean;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  /** Compare strings without regard to case. */
  ignore_case?: boolean;
}

/** At least `min` (0 to 1) of the counted events, or of the distinct values' latest events, must also match `when`. */
export interface ShareRequirement {
  when: Condition;
  min: number;
}

/** Every matching event raises a finding. */
export interface SingleTrigger {
  kind: 'single';
}

/** `threshold` matching events within a sliding `window` on event time. */
export interface CountTrigger {
  kind: 'count';
  /** Milliseconds. */
  window: number;
  threshold: number;
  share?: ShareRequirement;
}

/** `threshold` distinct values of `field` within a sliding `window`. */
export interface DistinctTrigger {
  kind: 'distinct';
  field: string;
  /** Milliseconds. */
  window: number;
  threshold: number;
  share?: ShareRequirement;
  /**
   * At least this many of the distinct values are consecutive integers (`41, 42, 43`), the mark of
   * an enumeration. When both `share` and `sequential` are set, either one is enough.
   */
  sequential?: number;
}

/** A leaky bucket per key: each event adds one; the level drains at `leak_rate`; going over `capacity` fires. */
export interface BucketTrigger {
  kind: 'bucket';
  capacity: number;
  /** Events per second. */
  leakRate: number;
}

/** Steps in order for the same key within `within`; a later step's event before its turn starts over. */
export interface SequenceTrigger {
  kind: 'sequence';
  /** Milliseconds from the first counted event to the last step. */
  within: number;
  steps: { when: Condition; count: number }[];
}

export type BaselineMetric = 'error_rate' | 'latency' | 'response_size';

/**
 * Per key (usually a route), a metric over fixed intervals of event time compared with its own
 * history: it fires when an interval's value exceeds both `factor` times the learned mean and
 * the mean plus three standard deviations, and is at least `min_value`.
 */
export interface BaselineTrigger {
  kind: 'baseline';
  metric: BaselineMetric;
  /** Interval length, milliseconds. */
  interval: number;
  /** Events an interval needs before it is judged or learned from. */
  minVolume: number;
  factor: number;
  /** Intervals learned before judging starts. */
  warmup: number;
  /** The smallest value that can fire: a share for error_rate, seconds for latency, bytes for response_size. */
  minValue: number;
}

export type Trigger = SingleTrigger | CountTrigger | DistinctTrigger | BucketTrigger | SequenceTrigger | BaselineTrigger;

/** A validated rule, as plain data that can cross into worker threads. */
export interface Rule {
  id: string;
  name: string;
  description: string;
  severity: Severity;
  confidence: Confidence;
  owasp?: string;
  mitre_attack?: string;
  tags: string[];
  when: Condition;
  /** Event fields whose values make the finding's key; default `client.address`. */
  group_by: string[];
  trigger: Trigger;
  /** After a finding, further matches for the same key are counted into it for this long, in milliseconds. */
  suppress: number;
  action?: SuggestedAction;
  tests: RuleTest[];
  /** Where the rule was defined, for messages. */
  source: { file: string; line: number };
}

export interface RuleTest {
  name: string;
  /** Events as field maps; `time` may be an RFC 3339 string or milliseconds and defaults to one second apart. */
  events: Record<string, unknown>[];
  /** Findings (`status: new`) the events must produce for this rule. */
  expect_findings: number;
  /** Fields the first finding must have, such as `{ count: 10, "key.client.address": 203.0.113.7 }`. */
  expect?: Record<string, unknown>;
  /** An OpenAPI document for this test, inline, for rules using `api_spec`. */
  openapi?: unknown;
  /** The test's line in the rule file, for messages. */
  line?: number;
}

/** Everything the rule files define: rules, plus the named lists and macros conditions refer to. */
export interface RuleSet {
  rules: Rule[];
  lists: Record<string, (string | number)[]>;
  macros: Record<string, Condition>;
}
