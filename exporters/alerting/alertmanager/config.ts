import { duration, object, record, string, url } from '../../../core/config/schema.js';
import { alertingSchemaFields, type AlertingConfig } from '../../helper/alerting.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';

export interface AlertmanagerExporterConfig extends ExporterHelperConfig, AlertingConfig {
  /** The Alertmanager base URL, such as `http://alertmanager:9093`; alerts go to `/api/v2/alerts` below it. Required. */
  endpoint: string;
  /** Extra request headers, such as an Authorization header from `${env:…}`. */
  headers: Record<string, string>;
  /** Labels added to every alert, such as `{ team: security }`. */
  labels: Record<string, string>;
  /** How long an alert stays firing after its last finding when the finding has no suppression period, in milliseconds. Default 10 min. */
  resolve_after: number;
  /** The `generatorURL` of each alert; empty (the default) leaves it out. */
  generator_url: string;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): AlertmanagerExporterConfig {
  const helper = defaultHelperConfig();
  helper.sending_queue.batch = { enabled: true, flush_timeout: 1000, min_size: 64, max_size: 1000, max_bytes: 0 };
  return {
    ...helper,
    endpoint: '',
    headers: {},
    labels: {},
    resolve_after: 600_000,
    generator_url: '',
    min_severity: 'medium',
    rate_limit: { rate: 0, burst: 0 },
    tls: defaultClientTls(),
  };
}

/** Alertmanager label names follow Prometheus: a letter or underscore, then letters, digits and underscores. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const schema = object({
  endpoint: url(),
  headers: record(string({ allowEmpty: true })),
  labels: record(string({ allowEmpty: true })),
  resolve_after: duration({ min: 1000 }),
  generator_url: string({ allowEmpty: true }),
  tls: clientTlsSchema,
  ...alertingSchemaFields,
  ...helperSchemaFields,
}, { required: ['endpoint'] });

export function validate(config: AlertmanagerExporterConfig, report: (message: string, path?: string) => void): void {
  validateHelperConfig(config, report);
  for (const name of Object.keys(config.labels)) {
    if (!LABEL_NAME.test(name)) report(`label name ${JSON.stringify(name)} is invalid; use letters, digits and underscores, not starting with a digit`, 'labels');
  }
}
