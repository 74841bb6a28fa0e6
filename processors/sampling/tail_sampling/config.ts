import { boolean, duration, integer, list, number, object, string, type Schema } from '../../../core/config/schema.js';
import { compileSafeRegex } from '../../helper/regex.js';

export const LEAF_POLICY_TYPES = ['always_sample', 'latency', 'status_code', 'string_attribute', 'numeric_attribute', 'probabilistic', 'rate_limiting', 'security'] as const;
export type PolicyType = (typeof LEAF_POLICY_TYPES)[number] | 'and' | 'composite';

export interface LatencyConfig {
  /** Traces lasting at least this long are sampled, in milliseconds (first span start to last span end). */
  threshold_ms: number;
  /** When above 0, traces lasting longer than this are not sampled by this policy, in milliseconds. Default 0. */
  upper_threshold_ms?: number;
}

export interface StatusCodeConfig {
  status_codes: ('OK' | 'ERROR' | 'UNSET')[];
}

export interface StringAttributeConfig {
  /** A span or resource attribute. */
  key: string;
  values: string[];
  /** When true, `values` are RE2 regular expressions that may match anywhere in the value. Default false. */
  enabled_regex_matching?: boolean;
  /** Accepted for Collector configs; regexes run in linear time here, so nothing is cached. */
  cache_max_size?: number;
  /** When true, the policy samples traces in which no span matches. Default false. */
  invert_match?: boolean;
}

export interface NumericAttributeConfig {
  key: string;
  /** Inclusive bounds; an absent bound is open. */
  min_value?: number;
  max_value?: number;
  invert_match?: boolean;
}

export interface ProbabilisticConfig {
  /** Salt of the 64-bit FNV-1a hash; empty means the Collector's default, `default-hash-seed`. */
  hash_salt?: string;
  sampling_percentage: number;
}

export interface RateLimitingConfig {
  /** Spans per wall-clock second this policy samples at most. */
  spans_per_second: number;
}

export interface SecurityConfig {
  /** How long after a finding the actor's traces are kept, in milliseconds. Default 15 minutes. */
  retention?: number;
  /** Which actor fields a trace is matched on: the client `address`, the user `identity`, or both. Default both. */
  actors?: ('address' | 'identity')[];
  /** Actors with an active finding tracked at most; the one expiring soonest is dropped past it. Default 100000. */
  max_actors?: number;
  /** Trace ids named in finding evidence remembered at most. Default 100000. */
  max_flagged_traces?: number;
  /** The attribute detection marks matching spans with. Default `watchpost.detection.rule_ids`. */
  mark_attribute?: string;
}

export interface AndConfig {
  and_sub_policy: PolicyConfig[];
}

export interface CompositeConfig {
  /** Spans per second the composite policy samples at most, shared by its sub-policies. */
  max_total_spans_per_second: number;
  /** Sub-policy names in evaluation order; sub-policies not listed come after, in config order. */
  policy_order?: string[];
  composite_sub_policy: PolicyConfig[];
  /** Shares of max_total_spans_per_second per sub-policy, in percent; unlisted sub-policies split what is left equally. */
  rate_allocation?: { policy: string; percent: number }[];
}

export interface PolicyConfig {
  name: string;
  type: PolicyType;
  latency?: LatencyConfig;
  status_code?: StatusCodeConfig;
  string_attribute?: StringAttributeConfig;
  numeric_attribute?: NumericAttributeConfig;
  probabilistic?: ProbabilisticConfig;
  rate_limiting?: RateLimitingConfig;
  security?: SecurityConfig;
  and?: AndConfig;
  composite?: CompositeConfig;
}

export interface TailSamplingConfig {
  /** How long spans of a trace are held after its first span arrives before the decision, in milliseconds. Default 30 s. */
  decision_wait: number;
  /** Traces held at most; past it the oldest is decided at once on the spans it has. Default 50000. */
  num_traces: number;
  /** Spans held per trace at most; a trace reaching it is decided at once. Default 10000. */
  max_spans_per_trace: number;
  decision_cache: {
    /** Trace ids of sampled traces remembered after the decision, so late spans are kept. Default 100000; 0 disables. */
    sampled_cache_size: number;
    /** Trace ids of traces not sampled remembered, so late spans are dropped. Default 100000; 0 disables. */
    non_sampled_cache_size: number;
  };
  /**
   * Keep batches deflated while their traces wait. Default true; turn it off when spans carry
   * data that does not compress (random tokens, encrypted payloads), where it costs CPU for nothing.
   */
  compress_held_batches: boolean;
  /** A trace is sampled when any policy samples it. Required. */
  policies: PolicyConfig[];
}

export function createDefaultConfig(): TailSamplingConfig {
  return {
    decision_wait: 30_000,
    num_traces: 50_000,
    max_spans_per_trace: 10_000,
    decision_cache: { sampled_cache_size: 100_000, non_sampled_cache_size: 100_000 },
    compress_held_batches: true,
    policies: [],
  };
}

/** Defaults of the security policy's settings. */
export function defaultSecurityConfig(): Required<SecurityConfig> {
  return { retention: 15 * 60_000, actors: ['address', 'identity'], max_actors: 100_000, max_flagged_traces: 100_000, mark_attribute: 'watchpost.detection.rule_ids' };
}

const leafFields = {
  name: string(),
  latency: object({ threshold_ms: number({ min: 0 }), upper_threshold_ms: number({ min: 0 }) }, { required: ['threshold_ms'] }),
  status_code: object({ status_codes: list(string({ enum: ['OK', 'ERROR', 'UNSET'] as const }), { minItems: 1 }) }, { required: ['status_codes'] }),
  string_attribute: object({
    key: string(),
    values: list(string({ allowEmpty: true }), { minItems: 1 }),
    enabled_regex_matching: boolean(),
    cache_max_size: integer({ min: 0 }),
    invert_match: boolean(),
  }, { required: ['key', 'values'] }),
  numeric_attribute: object({ key: string(), min_value: number(), max_value: number(), invert_match: boolean() }, { required: ['key'] }),
  probabilistic: object({ hash_salt: string({ allowEmpty: true }), sampling_percentage: number({ min: 0, max: 100 }) }, { required: ['sampling_percentage'] }),
  rate_limiting: object({ spans_per_second: integer({ min: 1 }) }, { required: ['spans_per_second'] }),
  security: object({
    retention: duration({ min: 0 }),
    actors: list(string({ enum: ['address', 'identity'] as const }), { minItems: 1 }),
    max_actors: integer({ min: 1 }),
    max_flagged_traces: integer({ min: 1 }),
    mark_attribute: string({ allowEmpty: true }),
  }),
};

const leafPolicy = object({ ...leafFields, type: string({ enum: LEAF_POLICY_TYPES }) }, { required: ['name', 'type'] });
const andPolicy = object({ ...leafFields, type: string({ enum: [...LEAF_POLICY_TYPES, 'and'] as const }), and: object({ and_sub_policy: list(leafPolicy, { minItems: 1 }) }, { required: ['and_sub_policy'] }) }, { required: ['name', 'type'] });

const policy = object({
  ...leafFields,
  type: string({ enum: [...LEAF_POLICY_TYPES, 'and', 'composite'] as const }),
  and: object({ and_sub_policy: list(leafPolicy, { minItems: 1 }) }, { required: ['and_sub_policy'] }),
  composite: object({
    max_total_spans_per_second: integer({ min: 1 }),
    policy_order: list(string()),
    composite_sub_policy: list(andPolicy, { minItems: 1 }),
    rate_allocation: list(object({ policy: string(), percent: number({ min: 0, max: 100 }) }, { required: ['policy', 'percent'] })),
  }, { required: ['max_total_spans_per_second', 'composite_sub_policy'] }),
}, { required: ['name', 'type'] });

export const schema = object({
  decision_wait: duration({ min: 1 }),
  num_traces: integer({ min: 1 }),
  max_spans_per_trace: integer({ min: 1 }),
  decision_cache: object({ sampled_cache_size: integer({ min: 0 }), non_sampled_cache_size: integer({ min: 0 }) }),
  compress_held_batches: boolean(),
  policies: list(policy as Schema<unknown>, { minItems: 1 }),
}, { required: ['policies'] });

/** Cross-field checks: each policy has the settings its type needs, names are unique, regexes compile. */
export function validateConfig(config: TailSamplingConfig, report: (message: string, path?: string) => void): void {
  checkPolicies(config.policies, 'policies', report);
}

const NEEDS_SETTINGS = new Set(['latency', 'status_code', 'string_attribute', 'numeric_attribute', 'probabilistic', 'rate_limiting', 'and', 'composite']);

function checkPolicies(policies: PolicyConfig[], path: string, report: (message: string, path?: string) => void): void {
  const names = new Set<string>();
  policies.forEach((entry, index) => {
    const where = `${path}[${index}] (${entry.name})`;
    if (names.has(entry.name)) report(`${where}: policy name "${entry.name}" is used twice; names must be unique`, path);
    names.add(entry.name);
    const settings = (entry as unknown as Record<string, unknown>)[entry.type];
    if (NEEDS_SETTINGS.has(entry.type) && settings === undefined) report(`${where}: a policy of type ${entry.type} needs a "${entry.type}" section`, path);
    if (entry.type === 'string_attribute' && entry.string_attribute?.enabled_regex_matching) {
      for (const value of entry.string_attribute.values) {
        const compiled = compileSafeRegex(value);
        if (typeof compiled === 'string') report(`${where}: ${compiled}`, path);
      }
    }
    if (entry.type === 'numeric_attribute' && entry.numeric_attribute) {
      const { min_value: min, max_value: max } = entry.numeric_attribute;
      if (min === undefined && max === undefined) report(`${where}: numeric_attribute needs min_value, max_value or both`, path);
      if (min !== undefined && max !== undefined && min > max) report(`${where}: min_value ${min} is greater than max_value ${max}`, path);
    }
    if (entry.type === 'and' && entry.and) checkPolicies(entry.and.and_sub_policy, `${where}.and.and_sub_policy`, report);
    if (entry.type === 'composite' && entry.composite) checkComposite(entry.composite, where, report, path);
  });
}

function checkComposite(composite: CompositeConfig, where: string, report: (message: string, path?: string) => void, path: string): void {
  checkPolicies(composite.composite_sub_policy, `${where}.composite.composite_sub_policy`, report);
  const names = new Set(composite.composite_sub_policy.map((entry) => entry.name));
  for (const name of composite.policy_order ?? []) {
    if (!names.has(name)) report(`${where}: policy_order names "${name}", which is not a composite_sub_policy`, path);
  }
  let total = 0;
  for (const allocation of composite.rate_allocation ?? []) {
    if (!names.has(allocation.policy)) report(`${where}: rate_allocation names "${allocation.policy}", which is not a composite_sub_policy`, path);
    total += allocation.percent;
  }
  if (total > 100) report(`${where}: rate_allocation percents add up to ${total}, more than 100`, path);
}
