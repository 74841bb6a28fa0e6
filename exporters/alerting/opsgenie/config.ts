import { boolean, duration, integer, list, object, string, url } from '../../../core/config/schema.js';
import { alertingSchemaFields, type AlertingConfig } from '../../helper/alerting.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';
import { checkTemplate } from '../../helper/template.js';

export interface OpsgenieExporterConfig extends ExporterHelperConfig, AlertingConfig {
  /** The Alert API base URL, such as `https://api.opsgenie.com` or `https://api.eu.opsgenie.com`. Required. */
  endpoint: string;
  /** The API integration key, sent as `Authorization: GenieKey <key>`. Required; never logged. */
  api_key: string;
  /** The alert `message`, a template over the finding, cut to Opsgenie's 130 characters. Default `{{ summary }}`. */
  message: string;
  /** The alert `source`. Default `watchpost`. */
  source: string;
  /** Tags added to every alert, besides the rule id and severity. */
  tags: string[];
  /** Closes the alert when a finding's quiet period passes without another finding of its fingerprint. Default true. */
  send_close: boolean;
  /** The quiet period for findings that carry no suppression period, in milliseconds. Default 10 min. */
  resolve_after: number;
  /** Open alerts tracked for closing; past it the one due soonest closes early. Default 10000. */
  max_open_alerts: number;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): OpsgenieExporterConfig {
  return {
    ...defaultHelperConfig(),
    endpoint: '',
    api_key: '',
    message: '{{ summary }}',
    source: 'watchpost',
    tags: [],
    send_close: true,
    resolve_after: 600_000,
    max_open_alerts: 10_000,
    min_severity: 'high',
    rate_limit: { rate: 0, burst: 0 },
    tls: defaultClientTls(),
  };
}

export const schema = object({
  endpoint: url(),
  api_key: string(),
  message: string({ check: checkTemplate }),
  source: string(),
  tags: list(string()),
  send_close: boolean(),
  resolve_after: duration({ min: 1000 }),
  max_open_alerts: integer({ min: 1 }),
  tls: clientTlsSchema,
  ...alertingSchemaFields,
  ...helperSchemaFields,
}, { required: ['endpoint', 'api_key'] });

export { validateHelperConfig as validate };
