import type { ExporterFactory } from '../../../core/component.js';
import { createAlertingExporter } from '../../helper/alerting-exporter.js';
import { closeAlert, createAlert } from './alert.js';
import { createDefaultConfig, schema, validate, type OpsgenieExporterConfig } from './config.js';

function alertsUrl(endpoint: string, suffix = ''): string {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v2/alerts${suffix}`;
  return url.toString();
}

export const opsgenieExporterFactory: ExporterFactory<OpsgenieExporterConfig> = {
  kind: 'exporter',
  type: 'opsgenie',
  description: 'Creates Opsgenie alerts with the finding fingerprint as alias and closes them when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => {
    const { config } = settings;
    const headers = { 'content-type': 'application/json', authorization: `GenieKey ${config.api_key}`, 'user-agent': 'watchpost' };
    return createAlertingExporter(settings, {
      sendOne: async (client, finding, signal) => {
        await client.send(alertsUrl(config.endpoint), { method: 'POST', headers, body: JSON.stringify(createAlert(finding, config)), signal });
      },
      resolve: config.send_close
        ? {
          resolveAfter: config.resolve_after,
          maxOpen: config.max_open_alerts,
          send: async (client, fingerprint, alert, signal) => {
            const url = new URL(alertsUrl(config.endpoint, `/${encodeURIComponent(fingerprint)}/close`));
            url.searchParams.set('identifierType', 'alias');
            await client.send(url.toString(), { method: 'POST', headers, body: JSON.stringify(closeAlert(config, alert.summary)), signal });
          },
        }
        : undefined,
    });
  },
};
