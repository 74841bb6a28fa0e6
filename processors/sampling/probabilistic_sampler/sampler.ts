import type { ExportLogsServiceRequest, ExportTraceServiceRequest, IAnyValue, IKeyValue, ILogRecord, ISpan } from '../../../core/otlp/codec.js';
import { anyValueToJs } from '../../../core/otlp/attributes.js';
import { fnv1a32, uint32LittleEndian } from '../../helper/fnv.js';
import type { ProbabilisticSamplerConfig } from './config.js';

/*
 * The decision of the OpenTelemetry Collector's probabilistic sampler in `hash_seed` mode: hash
 * the seed (four bytes, least significant first) followed by the trace id with 32-bit FNV-1a,
 * keep the low 14 bits as a bucket in 0..16383, and keep the item when the bucket is below the
 * percentage scaled to 16384 buckets. The scaling multiplies in 32-bit floats and truncates, as
 * the Collector's Go code does, so both keep exactly the same trace ids.
 */

const BUCKETS = 0x4000;
const BUCKET_MASK = BUCKETS - 1;
const SCALE = Math.fround(BUCKETS / 100);

/** The number of the 16384 buckets a percentage keeps. */
export function scaledSamplingRate(percentage: number): number {
  const clamped = Math.fround(Math.min(Math.max(percentage, 0), 100));
  return Math.floor(Math.fround(clamped * SCALE));
}

/** The 14-bit bucket of a trace id (or other randomness source) under a seed. */
export function hashBucket(seed: number, bytes: Uint8Array): number {
  return fnv1a32(uint32LittleEndian(seed), bytes) & BUCKET_MASK;
}

/** Whether the hash_seed sampler keeps an item with this randomness source. */
export function keeps(seed: number, bytes: Uint8Array, percentage: number): boolean {
  return hashBucket(seed, bytes) < scaledSamplingRate(percentage);
}

/** Why an item was kept or dropped, as counted in metrics. */
export type SamplingPolicy = 'trace_id_hash' | 'sampling_priority' | 'attribute_hash' | 'missing_randomness';

export interface SampleCounts {
  kept: number;
  dropped: number;
  /** Items per policy and outcome, keyed `policy/true` or `policy/false`. */
  byPolicy: Record<string, number>;
}

const EMPTY_TRACE_ID = new Uint8Array(16);

function count(counts: SampleCounts, policy: SamplingPolicy, sampled: boolean): boolean {
  const key = `${policy}/${sampled}`;
  counts.byPolicy[key] = (counts.byPolicy[key] ?? 0) + 1;
  if (sampled) counts.kept++;
  else counts.dropped++;
  return sampled;
}

function attribute(attributes: IKeyValue[] | null | undefined, key: string): IAnyValue | undefined {
  if (!attributes) return undefined;
  for (const entry of attributes) if (entry.key === key) return entry.value ?? undefined;
  return undefined;
}

/**
 * Reads the OpenTracing `sampling.priority` span attribute as the Collector does: 0 (as an
 * integer, a double or a numeric string) forces a drop, a positive number forces a keep, and
 * anything else leaves the decision to the hash.
 */
export function spanPriority(span: ISpan): 'keep' | 'drop' | undefined {
  const value = anyValueToJs(attribute(span.attributes, 'sampling.priority'));
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isNaN(number)) return undefined;
  if (number === 0) return 'drop';
  return number > 0 ? 'keep' : undefined;
}

function isEmpty(bytes: Uint8Array | null | undefined): boolean {
  if (!bytes || bytes.length === 0) return true;
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

/** Samples the spans of a request in place; removes emptied scopes and resources. */
export function sampleTraces(request: ExportTraceServiceRequest, config: ProbabilisticSamplerConfig): SampleCounts {
  const counts: SampleCounts = { kept: 0, dropped: 0, byPolicy: {} };
  const rate = scaledSamplingRate(config.sampling_percentage);
  request.resourceSpans = (request.resourceSpans ?? []).filter((resource) => {
    resource.scopeSpans = (resource.scopeSpans ?? []).filter((scope) => {
      scope.spans = (scope.spans ?? []).filter((span) => {
        const priority = spanPriority(span);
        if (priority) return count(counts, 'sampling_priority', priority === 'keep');
        const traceId = span.traceId && span.traceId.length > 0 ? span.traceId : EMPTY_TRACE_ID;
        return count(counts, 'trace_id_hash', hashBucket(config.hash_seed, traceId) < rate);
      });
      return scope.spans.length > 0;
    });
    return resource.scopeSpans.length > 0;
  });
  return counts;
}

/** The bytes a record's attribute contributes to the hash: raw bytes, or the value's text. */
function attributeBytes(value: IAnyValue): Uint8Array {
  if (value.bytesValue && value.bytesValue.length > 0) return value.bytesValue;
  const plain = anyValueToJs(value);
  const text = typeof plain === 'string' ? plain : JSON.stringify(plain);
  return Buffer.from(text ?? '', 'utf8');
}

/** The percentage a record's priority attribute asks for, or undefined when it has none. */
function recordPriority(record: ILogRecord, key: string): number | undefined {
  if (!key) return undefined;
  const value = anyValueToJs(attribute(record.attributes, key));
  return typeof value === 'number' ? value : undefined;
}

function decideRecord(record: ILogRecord, config: ProbabilisticSamplerConfig, counts: SampleCounts): boolean {
  let source: Uint8Array | undefined;
  let policy: SamplingPolicy = 'missing_randomness';
  if (config.attribute_source === 'traceID' && !isEmpty(record.traceId)) {
    source = record.traceId as Uint8Array;
    policy = 'trace_id_hash';
  } else if (config.from_attribute) {
    const value = attribute(record.attributes, config.from_attribute);
    if (value) {
      source = attributeBytes(value);
      policy = 'attribute_hash';
    }
  }

  const priority = recordPriority(record, config.sampling_priority);
  if (priority === 0) return count(counts, 'sampling_priority', false);
  if (!source) return count(counts, 'missing_randomness', !config.fail_closed);
  const bucket = hashBucket(config.hash_seed, source);
  if (bucket < scaledSamplingRate(config.sampling_percentage)) return count(counts, policy, true);
  // A priority only raises the probability, as in the Collector.
  if (priority !== undefined && priority > 0 && bucket < scaledSamplingRate(priority)) return count(counts, 'sampling_priority', true);
  return count(counts, policy, false);
}

/** Samples the log records of a request in place; removes emptied scopes and resources. */
export function sampleLogs(request: ExportLogsServiceRequest, config: ProbabilisticSamplerConfig): SampleCounts {
  const counts: SampleCounts = { kept: 0, dropped: 0, byPolicy: {} };
  request.resourceLogs = (request.resourceLogs ?? []).filter((resource) => {
    resource.scopeLogs = (resource.scopeLogs ?? []).filter((scope) => {
      scope.logRecords = (scope.logRecords ?? []).filter((record) => decideRecord(record, config, counts));
      return scope.logRecords.length > 0;
    });
    return resource.scopeLogs.length > 0;
  });
  return counts;
}
