import { object, string, url } from '../../../core/config/schema.js';
import { alertingSchemaFields, type AlertingConfig } from '../../helper/alerting.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';
import { checkTemplate } from '../../helper/template.js';

export interface SlackExporterConfig extends ExporterHelperConfig, AlertingConfig {
  /** The incoming-webhook URL Slack gave for a channel. Required; it works as a secret and is never logged. */
  webhook_url: string;
  /**
   * The message text, a template over the finding (see the webhook exporter's `fields`). Slack
   * shows it in notifications and as the fallback for the blocks. Default `{{ summary }}`.
   */
  text: string;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): SlackExporterConfig {
  return {
    ...defaultHelperConfig(),
    webhook_url: '',
    text: '{{ summary }}',
    min_severity: 'medium',
    // Slack's rate-limit guide allows posting about one message per second, with short bursts above it.
    rate_limit: { rate: 1, burst: 5 },
    tls: defaultClientTls(),
  };
}

export const schema = object({
  webhook_url: url(),
  text: string({ check: checkTemplate }),
  tls: clientTlsSchema,
  ...alertingSchemaFields,
  ...helperSchemaFields,
}, { required: ['webhook_url'] });

export { validateHelperConfig as validate };
