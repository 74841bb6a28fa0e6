import type { CompositeConfig, PolicyConfig, TailSamplingConfig } from './config.js';
import type { SpanGroup } from '../../helper/otlp-wire.js';
import { fnv1a64Halves } from '../../helper/fnv.js';
import type { CollectedPredicates } from './predicates.js';
import { SecurityState } from './security.js';

/** A trace waiting for its decision, built from the fragments that arrived so far. */
export interface PendingTrace {
  traceId: string;
  /** The trace's spans, as byte ranges of the batches they came in. */
  groups: SpanGroup[];
  spans: number;
  startMs: number;
  endMs: number;
  statuses: number;
  /** Indexes of the span predicates some span matched; short lists, so arrays rather than sets. */
  matched: number[];
  marks: number;
  actors: readonly string[];
  /** Wall-clock time the first span arrived, in milliseconds. */
  arrivedMs: number;
}

export interface Policy {
  readonly name: string;
  /** Decides on a whole trace; `nowMs` is the wall clock, for rates and retention. */
  evaluate(trace: PendingTrace, nowMs: number): boolean;
}

export interface CompileContext {
  predicates: CollectedPredicates;
  /** Security states created while compiling, which the processor feeds with findings. */
  security: SecurityState[];
}

const STATUS_BITS = { UNSET: 1 << 0, OK: 1 << 1, ERROR: 1 << 2 } as const;
const DEFAULT_HASH_SALT = 'default-hash-seed';
const MAX_UINT64 = 0xffffffffffffffffn;

/**
 * Computes the threshold of the Collector's probabilistic policy: (2^64 - 1) times the ratio,
 * rounded to 64 significant bits (Go's big.Float, nearest even) and then truncated to an integer.
 */
export function probabilisticThreshold(ratio: number): bigint {
  if (!(ratio > 0)) return 0n;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, ratio);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biasedExponent = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent = biasedExponent - 1075;
  if (biasedExponent === 0) exponent = -1074;
  else mantissa |= 1n << 52n;

  let product = MAX_UINT64 * mantissa;
  const bits = product.toString(2).length;
  if (bits > 64) {
    const shift = BigInt(bits - 64);
    let kept = product >> shift;
    const remainder = product & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (remainder > half || (remainder === half && (kept & 1n) === 1n)) kept++;
    product = kept << shift;
  }
  const value = exponent >= 0 ? product << BigInt(exponent) : product >> BigInt(-exponent);
  return value > MAX_UINT64 ? MAX_UINT64 : value;
}

class RateLimit {
  private second = -1;
  private used = 0;

  constructor(private readonly spansPerSecond: number) {}

  /** Reports whether `spans` fit in what is left of this wall-clock second's budget. */
  fits(spans: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.used = 0;
    }
    return this.used + spans <= this.spansPerSecond;
  }

  /** Takes `spans` from this second's budget when they fit, as the Collector's rate_limiting policy does. */
  take(spans: number, nowMs: number): boolean {
    if (!this.fits(spans, nowMs)) return false;
    this.used += spans;
    return true;
  }
}

function leaf(config: PolicyConfig, context: CompileContext): Policy {
  const name = config.name;
  switch (config.type) {
    case 'always_sample':
      return { name, evaluate: () => true };
    case 'latency': {
      const { threshold_ms: threshold, upper_threshold_ms: upper = 0 } = config.latency ?? { threshold_ms: 0 };
      return { name, evaluate: (trace) => {
        const duration = trace.endMs - trace.startMs;
        return duration >= threshold && (upper <= 0 || duration <= upper);
      } };
    }
    case 'status_code': {
      const mask = (config.status_code?.status_codes ?? []).reduce((bits, code) => bits | STATUS_BITS[code], 0);
      return { name, evaluate: (trace) => (trace.statuses & mask) !== 0 };
    }
    case 'string_attribute':
    case 'numeric_attribute': {
      const index = context.predicates.indexOf.get(config) ?? -1;
      const invert = (config.string_attribute ?? config.numeric_attribute)?.invert_match === true;
      return { name, evaluate: (trace) => trace.matched.includes(index) !== invert };
    }
    case 'probabilistic': {
      const settings = config.probabilistic ?? { sampling_percentage: 0 };
      const salt = Buffer.from(settings.hash_salt || DEFAULT_HASH_SALT, 'utf8');
      const threshold = probabilisticThreshold(settings.sampling_percentage / 100);
      const thresholdHigh = Number(threshold >> 32n);
      const thresholdLow = Number(threshold & 0xffffffffn);
      return { name, evaluate: (trace) => {
        const [high, low] = fnv1a64Halves(salt, Buffer.from(trace.traceId, 'hex'));
        return high < thresholdHigh || (high === thresholdHigh && low <= thresholdLow);
      } };
    }
    case 'rate_limiting': {
      const limit = new RateLimit(config.rate_limiting?.spans_per_second ?? 0);
      return { name, evaluate: (trace, nowMs) => limit.take(trace.spans, nowMs) };
    }
    case 'security': {
      const markBit = context.predicates.options.markAttributes.indexOf(config.security?.mark_attribute ?? 'watchpost.detection.rule_ids');
      const state = new SecurityState(config.security, markBit);
      context.security.push(state);
      return { name, evaluate: (trace, nowMs) => state.keeps(trace, nowMs) };
    }
    default:
      throw new Error(`policy ${name}: type ${config.type} cannot be a leaf policy`);
  }
}

function composite(name: string, config: CompositeConfig, context: CompileContext): Policy {
  const byName = new Map(config.composite_sub_policy.map((sub) => [sub.name, sub]));
  const order = [...(config.policy_order ?? []), ...config.composite_sub_policy.map((sub) => sub.name).filter((sub) => !config.policy_order?.includes(sub))];
  const allocations = new Map((config.rate_allocation ?? []).map((entry) => [entry.policy, (entry.percent / 100) * config.max_total_spans_per_second]));
  const allocated = [...allocations.values()].reduce((total, value) => total + value, 0);
  const unallocated = order.filter((sub) => !allocations.has(sub)).length;
  const share = unallocated > 0 ? Math.max(config.max_total_spans_per_second - allocated, 0) / unallocated : 0;
  const subs = order.map((subName) => ({
    policy: compile(byName.get(subName) as PolicyConfig, context),
    limit: new RateLimit(Math.floor(allocations.get(subName) ?? share)),
  }));
  const total = new RateLimit(config.max_total_spans_per_second);
  return {
    name,
    evaluate(trace, nowMs) {
      // The first sub-policy that samples the trace and still has budget this second takes it.
      for (const sub of subs) {
        if (!sub.policy.evaluate(trace, nowMs)) continue;
        if (sub.limit.fits(trace.spans, nowMs) && total.fits(trace.spans, nowMs)) {
          sub.limit.take(trace.spans, nowMs);
          total.take(trace.spans, nowMs);
          return true;
        }
      }
      return false;
    },
  };
}

export function compile(config: PolicyConfig, context: CompileContext): Policy {
  if (config.type === 'and') {
    const subs = (config.and?.and_sub_policy ?? []).map((sub) => compile(sub, context));
    return { name: config.name, evaluate: (trace, nowMs) => subs.every((sub) => sub.evaluate(trace, nowMs)) };
  }
  if (config.type === 'composite' && config.composite) return composite(config.name, config.composite, context);
  return leaf(config, context);
}

export function compilePolicies(config: TailSamplingConfig, predicates: CollectedPredicates): { policies: Policy[]; security: SecurityState[] } {
  const context: CompileContext = { predicates, security: [] };
  return { policies: config.policies.map((policy) => compile(policy, context)), security: context.security };
}
