import { object, record, string } from '../../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';

export interface OcsfExporterConfig extends ExporterHelperConfig {
  /** An http or https URL that takes OCSF events by POST. Set this or `path`. */
  endpoint: string;
  /** A file that OCSF events are appended to, one JSON object per line; its directory is created. Set this or `endpoint`. */
  path: string;
  /** The request body: `json_array` (the default, one JSON array per request) or `ndjson` (one event per line). */
  encoding: 'json_array' | 'ndjson';
  /** Extra request headers, such as an Authorization header from `${env:…}`. */
  headers: Record<string, string>;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): OcsfExporterConfig {
  const helper = defaultHelperConfig();
  helper.sending_queue.batch = { enabled: true, flush_timeout: 1000, min_size: 512, max_size: 0, max_bytes: 0 };
  return { ...helper, endpoint: '', path: '', encoding: 'json_array', headers: {}, tls: defaultClientTls() };
}

export const schema = object({
  endpoint: string({ allowEmpty: true, check: (text) => (text === '' || /^https?:\/\/[^\s]+$/.test(text) ? undefined : `must be an http or https URL, got ${JSON.stringify(text)}`) }),
  path: string({ allowEmpty: true }),
  encoding: string({ enum: ['json_array', 'ndjson'] as const }),
  headers: record(string({ allowEmpty: true })),
  tls: clientTlsSchema,
  ...helperSchemaFields,
});

export function validate(config: OcsfExporterConfig, report: (message: string, path?: string) => void): void {
  validateHelperConfig(config, report);
  if (Boolean(config.endpoint) === Boolean(config.path)) report('set exactly one of endpoint (HTTP) and path (file)');
}
