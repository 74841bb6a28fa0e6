import type { ExporterFactory } from '../../../core/component.js';
import { quietPeriod } from '../../helper/alerting.js';
import { createAlertingExporter } from '../../helper/alerting-exporter.js';
import { postableAlert } from './alert.js';
import { createDefaultConfig, schema, validate, type AlertmanagerExporterConfig } from './config.js';

export const alertmanagerExporterFactory: ExporterFactory<AlertmanagerExporterConfig> = {
  kind: 'exporter',
  type: 'alertmanager',
  description: 'Posts findings as Prometheus Alertmanager alerts that resolve on their own when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => {
    const { config } = settings;
    const target = new URL(config.endpoint);
    target.pathname = `${target.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
    const headers = { 'content-type': 'application/json', 'user-agent': 'watchpost', ...config.headers };
    return createAlertingExporter(settings, {
      // One request carries the whole batch: Alertmanager takes a list of alerts and rejects it as a whole with 400 when one is invalid.
      sendAll: async (client, findings, signal) => {
        const alerts = findings.map((finding) => postableAlert(finding, config, quietPeriod(finding, config.resolve_after)));
        await client.send(target.toString(), { method: 'POST', headers, body: JSON.stringify(alerts), signal });
      },
    });
  },
};
