import { duration, integer, object } from '../../core/config/schema.js';

export interface BatchConfig {
  /** Items (spans, log records, data points, findings) that trigger a send. Default 8192. */
  send_batch_size: number;
  /** Maximum items in one sent batch; larger incoming batches are split. 0 means no limit. Default 0. */
  send_batch_max_size: number;
  /** Maximum bytes of encoded items in one sent batch, and the size that triggers a send; 0 means no limit. Findings are not counted. Default 0. */
  send_batch_max_bytes: number;
  /** How long the first item of a batch waits for more before the batch is sent, in milliseconds; 0 sends each incoming batch at once. Default 200 ms. */
  timeout: number;
}

export function createDefaultConfig(): BatchConfig {
  return { send_batch_size: 8192, send_batch_max_size: 0, send_batch_max_bytes: 0, timeout: 200 };
}

export const schema = object({
  send_batch_size: integer({ min: 1 }),
  send_batch_max_size: integer({ min: 0 }),
  send_batch_max_bytes: integer({ min: 0 }),
  timeout: duration({ min: 0 }),
});

export function validateConfig(config: BatchConfig, report: (message: string, path?: string) => void): void {
  if (config.send_batch_max_size > 0 && config.send_batch_max_size < config.send_batch_size) {
    report(`send_batch_max_size (${config.send_batch_max_size}) must be 0 or at least send_batch_size (${config.send_batch_size})`, 'send_batch_max_size');
  }
}
