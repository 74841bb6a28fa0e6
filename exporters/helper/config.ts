import { boolean, duration, integer, number, object } from '../../core/config/schema.js';

/** The delivery settings every exporter shares, named as in the Collector's exporterhelper. */
export interface ExporterHelperConfig {
  /** Per-attempt timeout in milliseconds; 0 means no timeout. Default 5 s. */
  timeout: number;
  sending_queue: {
    /** When false, consume() sends synchronously and the receiver waits for the result. Default true. */
    enabled: boolean;
    /** Batches the queue holds before new ones are refused. Default 1000. */
    queue_size: number;
    /** Batches sent concurrently. Default 10. */
    num_consumers: number;
  };
  retry_on_failure: {
    enabled: boolean;
    /** Milliseconds; defaults 5 s, 30 s and 300 s as in the Collector. 0 max_elapsed_time retries forever. */
    initial_interval: number;
    max_interval: number;
    max_elapsed_time: number;
    /** Each wait is the previous one times this; default 1.5. */
    multiplier: number;
    /** Waits vary by up to this fraction either way, so clients do not retry in step; default 0.5. */
    randomization_factor: number;
  };
}

export function defaultHelperConfig(): ExporterHelperConfig {
  return {
    timeout: 5000,
    sending_queue: { enabled: true, queue_size: 1000, num_consumers: 10 },
    retry_on_failure: {
      enabled: true,
      initial_interval: 5000,
      max_interval: 30_000,
      max_elapsed_time: 300_000,
      multiplier: 1.5,
      randomization_factor: 0.5,
    },
  };
}

/** Schema fields for the shared settings; exporters spread these into their own object schema. */
export const helperSchemaFields = {
  timeout: duration({ min: 0 }),
  sending_queue: object({
    enabled: boolean(),
    queue_size: integer({ min: 1 }),
    num_consumers: integer({ min: 1, max: 1000 }),
  }),
  retry_on_failure: object({
    enabled: boolean(),
    initial_interval: duration({ min: 0 }),
    max_interval: duration({ min: 0 }),
    max_elapsed_time: duration({ min: 0 }),
    multiplier: number({ min: 1 }),
    randomization_factor: number({ min: 0, max: 1 }),
  }),
};
