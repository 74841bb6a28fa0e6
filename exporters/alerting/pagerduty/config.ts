import { boolean, duration, integer, object, string, url } from '../../../core/config/schema.js';
import { alertingSchemaFields, type AlertingConfig } from '../../helper/alerting.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';
import { checkTemplate } from '../../helper/template.js';

export interface PagerDutyExporterConfig extends ExporterHelperConfig, AlertingConfig {
  /** The Events API v2 URL, `https://events.pagerduty.com/v2/enqueue` for PagerDuty's service. Required. */
  endpoint: string;
  /** The integration key of the service, sent in each event. Required; never logged. */
  routing_key: string;
  /** `payload.summary`, a template over the finding, cut to PagerDuty's 1024 characters. Default `{{ summary }}`. */
  summary: string;
  /** `payload.source`; empty (the default) uses the finding's service or host, then this machine's hostname. */
  source: string;
  /** `payload.component`. Default `watchpost`. */
  component: string;
  /** `payload.group`; empty (the default) leaves it out. */
  group: string;
  /** The `client` shown in PagerDuty. Default `Watchpost`. */
  client: string;
  /** A URL PagerDuty links the client name to; empty (the default) leaves it out. */
  client_url: string;
  /** Sends `resolve` when a finding's quiet period passes without another finding of its fingerprint. Default true. */
  send_resolve: boolean;
  /** The quiet period for findings that carry no suppression period, in milliseconds. Default 10 min. */
  resolve_after: number;
  /** Open alerts tracked for resolving; past it the one due soonest resolves early. Default 10000. */
  max_open_alerts: number;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): PagerDutyExporterConfig {
  return {
    ...defaultHelperConfig(),
    endpoint: '',
    routing_key: '',
    summary: '{{ summary }}',
    source: '',
    component: 'watchpost',
    group: '',
    client: 'Watchpost',
    client_url: '',
    send_resolve: true,
    resolve_after: 600_000,
    max_open_alerts: 10_000,
    min_severity: 'high',
    // An estimate that keeps one integration key well inside PagerDuty's per-key event limit. 429 responses are retried.
    rate_limit: { rate: 2, burst: 20 },
    tls: defaultClientTls(),
  };
}

export const schema = object({
  endpoint: url(),
  routing_key: string(),
  summary: string({ check: checkTemplate }),
  source: string({ allowEmpty: true }),
  component: string({ allowEmpty: true }),
  group: string({ allowEmpty: true }),
  client: string({ allowEmpty: true }),
  client_url: string({ allowEmpty: true }),
  send_resolve: boolean(),
  resolve_after: duration({ min: 1000 }),
  max_open_alerts: integer({ min: 1 }),
  tls: clientTlsSchema,
  ...alertingSchemaFields,
  ...helperSchemaFields,
}, { required: ['endpoint', 'routing_key'] });

export { validateHelperConfig as validate };
