import { boolean, object, record, string, url } from '../../core/config/schema.js';
import { alertingSchemaFields, type AlertingConfig } from '../helper/alerting.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../helper/config.js';
import { defaultPolicyConfig, policySchema, validatePolicy, type PolicyConfig } from '../helper/enforcement/policy.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../helper/http.js';
import { checkTemplate } from '../helper/template.js';
import { checkSecret } from '../helper/webhook-signature.js';

export interface WebhookExporterConfig extends ExporterHelperConfig, AlertingConfig {
  /** The URL each request is POSTed to. Required. */
  endpoint: string;
  /** Extra request headers, such as an Authorization header from `${env:…}`. */
  headers: Record<string, string>;
  /**
   * What the requests carry. `finding` (the default) sends findings; `decision` runs the
   * enforcement `policy` and sends the ban decisions it makes, as Standard Webhooks events of type
   * `watchpost.decision.created`.
   */
  payload: 'finding' | 'decision';
  /**
   * Templated body fields for `payload: finding`, such as `{ text: "{{ summary }}" }`; the body is
   * then the rendered object instead of the whole finding. Empty (the default) sends the finding.
   */
  fields: Record<string, string>;
  /** When true, one request carries a JSON array of every item in the batch; when false (the default), one request per item. */
  json_array: boolean;
  /**
   * Signing secret for Standard Webhooks signatures (`webhook-id`, `webhook-timestamp` and
   * `webhook-signature` headers): `whsec_` and base64, or plain text, at least 24 bytes. Empty
   * (the default) sends unsigned requests.
   */
  secret: string;
  /** The enforcement policy, used with `payload: decision`. */
  policy: PolicyConfig;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): WebhookExporterConfig {
  return {
    ...defaultHelperConfig(),
    endpoint: '',
    headers: {},
    payload: 'finding',
    fields: {},
    json_array: false,
    secret: '',
    min_severity: 'info',
    rate_limit: { rate: 0, burst: 0 },
    policy: defaultPolicyConfig(),
    tls: defaultClientTls(),
  };
}

export const schema = object({
  endpoint: url(),
  headers: record(string({ allowEmpty: true })),
  payload: string({ enum: ['finding', 'decision'] as const }),
  fields: record(string({ allowEmpty: true, check: checkTemplate })),
  json_array: boolean(),
  secret: string({ allowEmpty: true, check: checkSecret }),
  policy: policySchema,
  tls: clientTlsSchema,
  ...alertingSchemaFields,
  ...helperSchemaFields,
}, { required: ['endpoint'] });

export function validate(config: WebhookExporterConfig, report: (message: string, path?: string) => void): void {
  validateHelperConfig(config, report);
  validatePolicy(config.policy, report);
  if (config.payload === 'decision' && Object.keys(config.fields).length > 0) {
    report('fields apply to payload: finding only; decision events have a fixed shape', 'fields');
  }
}
