import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { quietPeriod, RateLimiter, sendEach, severityFilter } from '../../helper/alerting.js';
import { HttpClient } from '../../helper/http.js';
import { AlertResolver } from '../../helper/resolver.js';
import { QueuedExporter, type SendContext } from '../../helper/sender.js';
import { closeAlert, createAlert } from './alert.js';
import { createDefaultConfig, schema, validate, type OpsgenieExporterConfig } from './config.js';

function alertsUrl(endpoint: string, suffix = ''): string {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v2/alerts${suffix}`;
  return url.toString();
}

function createOpsgenieExporter(settings: CreateSettings<OpsgenieExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const limiter = new RateLimiter(config.rate_limit);
  const headers = { 'content-type': 'application/json', authorization: `GenieKey ${config.api_key}`, 'user-agent': 'watchpost' };
  const post = (url: string, body: Record<string, unknown>, signal: AbortSignal) => client.send(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
  const resolver = config.send_close
    ? new AlertResolver({
      id: settings.id,
      storage: settings.storage,
      logger: settings.logger,
      metrics: settings.metrics,
      maxOpen: config.max_open_alerts,
      retry: config.retry_on_failure,
      timeout: config.timeout,
      resolve: async (fingerprint, alert, signal) => {
        const url = new URL(alertsUrl(config.endpoint, `/${encodeURIComponent(fingerprint)}/close`));
        url.searchParams.set('identifierType', 'alias');
        await post(url.toString(), closeAlert(config, alert.summary), signal);
      },
    })
    : undefined;

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const messages = batch.findings.map((finding) => ({
      findings: [finding],
      send: async (abort: AbortSignal) => {
        await post(alertsUrl(config.endpoint), createAlert(finding, config), abort);
        resolver?.touch(finding, quietPeriod(finding, config.resolve_after));
      },
    }));
    await sendEach(messages, signal, context, batch.origin);
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
    onStart: async () => resolver?.start(),
    onShutdown: async () => {
      await resolver?.stop();
      client.close();
    },
  });
}

export const opsgenieExporterFactory: ExporterFactory<OpsgenieExporterConfig> = {
  kind: 'exporter',
  type: 'opsgenie',
  description: 'Creates Opsgenie alerts with the finding fingerprint as alias and closes them when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createOpsgenieExporter,
};
