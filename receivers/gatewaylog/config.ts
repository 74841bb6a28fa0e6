import { duration, integer, list, object, record, string } from '../../core/config/schema.js';

import { FORMAT_NAMES } from '../helper/accesslog/formats.js';

export { FORMAT_NAMES };

export interface GatewayLogConfig {
  /** Files to follow; the last path segment may contain `*`, `?` and `[...]`. */
  include: string[];
  /** Files to skip even when `include` matches them. */
  exclude: string[];
  /** The access-log format; `nginx` takes its layout from `log_format`. Default `nginx_combined`. */
  format: (typeof FORMAT_NAMES)[number];
  /** An nginx `log_format` string, for `format: nginx`. */
  log_format: string;
  /** Where to start reading files that exist at start-up; default `end`, as the Collector's filelog receiver does. */
  start_at: 'beginning' | 'end';
  /** How often files are checked for new lines, in milliseconds; default 200 ms. */
  poll_interval: number;
  /** Longest line kept, in bytes; longer lines are cut to this head. Default 1 MiB. */
  max_log_size: number;
  /** Lines per batch sent into the pipeline; default 1000. */
  max_batch_lines: number;
  /** Resource attributes of every record, such as `service.name`. */
  resource: Record<string, string>;
}

export function createDefaultConfig(): GatewayLogConfig {
  return {
    include: [],
    exclude: [],
    format: 'nginx_combined',
    log_format: '',
    start_at: 'end',
    poll_interval: 200,
    max_log_size: 1024 * 1024,
    max_batch_lines: 1000,
    resource: {},
  };
}

export const schema = object({
  include: list(string(), { minItems: 1 }),
  exclude: list(string()),
  format: string({ enum: FORMAT_NAMES }),
  log_format: string(),
  start_at: string({ enum: ['beginning', 'end'] as const }),
  poll_interval: duration({ min: 10 }),
  max_log_size: integer({ min: 256 }),
  max_batch_lines: integer({ min: 1, max: 100_000 }),
  resource: record(string({ allowEmpty: true })),
}, { required: ['include'] });
