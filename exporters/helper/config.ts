import { boolean, duration, integer, number, object, string } from '../../core/config/schema.js';

/** The delivery settings every exporter shares, named as in the Collector's exporterhelper. */
export interface ExporterHelperConfig {
  /** Per-attempt timeout in milliseconds; 0 means no timeout. Default 5 s. */
  timeout: number;
  sending_queue: SendingQueueConfig;
  retry_on_failure: RetryConfig;
}

export interface SendingQueueConfig {
  /** When false, consume() sends synchronously and the receiver waits for the result. Default true. */
  enabled: boolean;
  /** Batches the queue holds before new ones are rejected. Default 1000. */
  queue_size: number;
  /** Batches sent concurrently. Default 10. */
  num_consumers: number;
  /**
   * Where queued batches live. Empty (the default) keeps them in memory, so they are lost when
   * the process dies. `lmdb` writes each batch to the lmdb environment under
   * `service.storage.directory` before consume() resolves, so a receiver acknowledges only data
   * that is on disk, and the queue drains after a restart.
   */
  storage: '' | 'lmdb';
  batch: BatchConfig;
}

/** Merging of queued batches into larger requests, as the Collector's `sending_queue.batch` does. */
export interface BatchConfig {
  /** When false (the default), every queued batch is sent on its own. */
  enabled: boolean;
  /** Longest wait for `min_size` items after the first item of a request arrived, in milliseconds. Default 200 ms. */
  flush_timeout: number;
  /** Items (findings, spans, log records) a request waits for before it is sent. Default 512. */
  min_size: number;
  /** Most items in one request; larger merged batches of findings are split. 0 means no limit. Default 0. */
  max_size: number;
  /** Most bytes in one request, as the exporter measures its payload; 0 means no limit. Default 0. */
  max_bytes: number;
}

export interface RetryConfig {
  /** When false, a failed send is dropped at once. Default true. */
  enabled: boolean;
  /** The first wait after a failure, in milliseconds. Default 5 s, as in the Collector. */
  initial_interval: number;
  /** The longest wait between attempts, in milliseconds. Default 30 s. */
  max_interval: number;
  /** How long a batch is retried before it is dropped, in milliseconds; 0 retries forever. Default 300 s. */
  max_elapsed_time: number;
  /** Each wait is the previous one times this. Default 1.5. */
  multiplier: number;
  /** Waits vary by up to this fraction either way, so clients do not retry in step. Default 0.5. */
  randomization_factor: number;
}

export function defaultHelperConfig(): ExporterHelperConfig {
  return {
    timeout: 5000,
    sending_queue: {
      enabled: true,
      queue_size: 1000,
      num_consumers: 10,
      storage: '',
      batch: { enabled: false, flush_timeout: 200, min_size: 512, max_size: 0, max_bytes: 0 },
    },
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
    storage: string({ enum: ['', 'lmdb'] as const }),
    batch: object({
      enabled: boolean(),
      flush_timeout: duration({ min: 0 }),
      min_size: integer({ min: 1 }),
      max_size: integer({ min: 0 }),
      max_bytes: integer({ min: 0 }),
    }),
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

/** Cross-field checks of the shared settings, for an exporter factory's `validate`. */
export function validateHelperConfig(config: ExporterHelperConfig, report: (message: string, path?: string) => void): void {
  const queue = config.sending_queue;
  if (queue.storage !== '' && !queue.enabled) {
    report('sending_queue.storage needs sending_queue.enabled: true, because only a queue can be persistent', 'sending_queue.storage');
  }
  if (queue.batch.enabled && !queue.enabled) {
    report('sending_queue.batch needs sending_queue.enabled: true, because batches are formed from the queue', 'sending_queue.batch');
  }
  if (queue.batch.max_size > 0 && queue.batch.max_size < queue.batch.min_size) {
    report(`sending_queue.batch.max_size (${queue.batch.max_size}) must be 0 or at least min_size (${queue.batch.min_size})`, 'sending_queue.batch.max_size');
  }
  const retry = config.retry_on_failure;
  if (retry.max_interval < retry.initial_interval) {
    report(`retry_on_failure.max_interval (${retry.max_interval} ms) must be at least initial_interval (${retry.initial_interval} ms)`, 'retry_on_failure.max_interval');
  }
}
