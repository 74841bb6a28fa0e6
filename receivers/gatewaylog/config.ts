import { duration, endpoint, integer, list, object, record, string } from '../../core/config/schema.js';
import { FORMAT_NAMES, type FormatName } from '../helper/accesslog/formats.js';

export { FORMAT_NAMES };

export interface GatewayLogHttpConfig {
  /** `host:port` of the push endpoint. Default empty: no endpoint. Listen on 127.0.0.1 unless senders are remote. */
  endpoint: string;
  /** The URL path that takes `POST`s. Default `/`. */
  path: string;
  /** Largest request body accepted, in bytes, after decompression; larger ones get HTTP 413. Default 10 MiB. */
  max_request_body_size: number;
}

export interface GatewayLogConfig {
  /** Files to follow, as globs (`*`, `?`, `[…]`, `{a,b}`, `**`). Default empty: no files, which needs `http.endpoint`. */
  include: string[];
  /** Globs of files to skip even when `include` matches them; without `/` (`*.gz`) they match file names. Default empty. */
  exclude: string[];
  /** The log format, one of FORMAT_NAMES; `nginx` and `apache` take their layout from `log_format`. Default `nginx_combined`. */
  format: FormatName;
  /** An nginx `log_format` or Apache `LogFormat` string, for `format: nginx` and `format: apache`. Default empty. */
  log_format: string;
  /**
   * Proxies whose X-Forwarded-For entries are believed, as addresses, CIDR ranges or `unix:`.
   * Default empty: the peer that connected to the gateway is always the client.
   */
  trusted_proxies: string[];
  /** The zone of timestamps logged without one (error logs, HAProxy): `UTC`, an offset such as `+02:00`, or an IANA name. Default `UTC`. */
  timezone: string;
  /** The starting point in files that exist at the first scan and have no checkpoint: `beginning` or `end`. Default `end`. */
  start_at: 'beginning' | 'end';
  /** How often files are checked for new lines and new files, in milliseconds. Default 200 ms. */
  poll_interval: number;
  /** Maximum line length kept, in bytes; longer lines are cut to this head and counted. Default 1 MiB. */
  max_log_size: number;
  /** Lines per batch sent into the pipelines. Default 1000. */
  max_batch_lines: number;
  /** Files followed at once; further matching files are left out, counted and logged. Default 1024. */
  max_concurrent_files: number;
  /** How long a rotated or deleted file is still read after it last grew, in milliseconds. Default 5 s. */
  rotate_wait: number;
  /** Bytes at the start of a file that identify it across renames and copies. Default 1024. */
  fingerprint_size: number;
  /** Resource attributes of every record, such as `service.name`. Default empty. */
  resource: Record<string, string>;
  /** An HTTP endpoint for gateways that push JSON log entries, such as Kong's http-log plugin. */
  http: GatewayLogHttpConfig;
}

export function createDefaultConfig(): GatewayLogConfig {
  return {
    include: [],
    exclude: [],
    format: 'nginx_combined',
    log_format: '',
    trusted_proxies: [],
    timezone: 'UTC',
    start_at: 'end',
    poll_interval: 200,
    max_log_size: 1024 * 1024,
    max_batch_lines: 1000,
    max_concurrent_files: 1024,
    rotate_wait: 5000,
    fingerprint_size: 1024,
    resource: {},
    http: { endpoint: '', path: '/', max_request_body_size: 10 * 1024 * 1024 },
  };
}

export const schema = object({
  include: list(string()),
  exclude: list(string()),
  format: string({ enum: FORMAT_NAMES }),
  log_format: string(),
  trusted_proxies: list(string()),
  timezone: string(),
  start_at: string({ enum: ['beginning', 'end'] as const }),
  poll_interval: duration({ min: 10 }),
  max_log_size: integer({ min: 256 }),
  max_batch_lines: integer({ min: 1, max: 100_000 }),
  max_concurrent_files: integer({ min: 1, max: 65_536 }),
  rotate_wait: duration({ min: 0 }),
  fingerprint_size: integer({ min: 16, max: 65_536 }),
  resource: record(string({ allowEmpty: true })),
  http: object({
    endpoint: endpoint(),
    path: string({ check: (value) => (value.startsWith('/') ? undefined : `must start with "/", got ${JSON.stringify(value)}`) }),
    max_request_body_size: integer({ min: 1024 }),
  }),
});
