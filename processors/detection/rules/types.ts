import type { Confidence, Severity, SuggestedAction } from '../../../core/data/finding.js';

/** A condition on one event, as rule files write it; see the rule language in the detection README. */
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { detector: string }
  | { macro: string }
  | FieldCondition;

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
  /** Sliding window on event time, in milliseconds; 0 means each matching event counts alone. */
  window: number;
  /** Events (or distinct values) within the window that make a finding; 1 means every match does. */
  threshold: number;
  /** When set, the threshold counts distinct values of this field instead of events. */
  distinct?: string;
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
  /** Findings the events must produce for this rule. */
  expect_findings: number;
}

/** Everything the rule files define: rules, plus the named lists and macros conditions refer to. */
export interface RuleSet {
  rules: Rule[];
  lists: Record<string, (string | number)[]>;
  macros: Record<string, Condition>;
}
