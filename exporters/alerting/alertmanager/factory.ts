import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { quietPeriod, RateLimiter, severityFilter } from '../../helper/alerting.js';
import { HttpClient } from '../../helper/http.js';
import { QueuedExporter } from '../../helper/sender.js';
import { postableAlert } from './alert.js';
import { createDefaultConfig, schema, validate, type AlertmanagerExporterConfig } from './config.js';

function createAlertmanagerExporter(settings: CreateSettings<AlertmanagerExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const limiter = new RateLimiter(config.rate_limit);
  const target = new URL(config.endpoint);
  target.pathname = `${target.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  const headers = { 'content-type': 'application/json', 'user-agent': 'watchpost', ...config.headers };

  // One request carries the whole batch: Alertmanager takes a list of alerts and rejects it as a whole with 400 when one is invalid.
  const send = async (batch: Batch, signal: AbortSignal): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const alerts = batch.findings.map((finding) => postableAlert(finding, config, quietPeriod(finding, config.resolve_after)));
    await client.send(target.toString(), { method: 'POST', headers, body: JSON.stringify(alerts), signal });
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    accept: severityFilter(config.min_severity),
    beforeSend: limiter.hook(),
    onShutdown: async () => client.close(),
  });
}

export const alertmanagerExporterFactory: ExporterFactory<AlertmanagerExporterConfig> = {
  kind: 'exporter',
  type: 'alertmanager',
  description: 'Posts findings as Prometheus Alertmanager alerts that resolve on their own when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createAlertmanagerExporter,
};
