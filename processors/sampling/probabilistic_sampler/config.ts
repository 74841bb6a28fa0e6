import { boolean, integer, number, object, string } from '../../../core/config/schema.js';

export interface ProbabilisticSamplerConfig {
  /**
   * Percentage of traces (and of logs, by their randomness source) to keep, 0 to 100; values
   * are read as 32-bit floats, as the Collector reads them. Required.
   */
  sampling_percentage: number;
  /** Seed of the FNV-1a hash, an unsigned 32-bit integer; every Watchpost and Collector of one tier must share it. Default 0. */
  hash_seed: number;
  /** The sampling mode; only `hash_seed` exists here. Default `hash_seed`. */
  mode: 'hash_seed';
  /** Whether log records without randomness (no trace id and no `from_attribute` value) are dropped (true) or kept (false). Default true. */
  fail_closed: boolean;
  /** Logs: where randomness comes from, the record's trace id (`traceID`) or the `from_attribute` attribute (`record`). Default `traceID`. */
  attribute_source: 'traceID' | 'record';
  /** Logs: the record attribute hashed when `attribute_source` is `record` or the record has no trace id. Empty means none. Default empty. */
  from_attribute: string;
  /** Logs: a record attribute whose number is a percentage that raises the record's sampling percentage; 0 drops the record. Empty means none. Default empty. */
  sampling_priority: string;
}

export function createDefaultConfig(): ProbabilisticSamplerConfig {
  return {
    sampling_percentage: 0,
    hash_seed: 0,
    mode: 'hash_seed',
    fail_closed: true,
    attribute_source: 'traceID',
    from_attribute: '',
    sampling_priority: '',
  };
}

export const schema = object({
  sampling_percentage: number({ min: 0, max: 100 }),
  hash_seed: integer({ min: 0, max: 0xffffffff }),
  mode: string({ enum: ['hash_seed'] as const }),
  fail_closed: boolean(),
  attribute_source: string({ enum: ['traceID', 'record'] as const }),
  from_attribute: string({ allowEmpty: true }),
  sampling_priority: string({ allowEmpty: true }),
}, { required: ['sampling_percentage'] });
