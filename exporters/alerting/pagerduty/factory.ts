import { hostname } from 'node:os';
import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { quietPeriod, RateLimiter, sendEach, severityFilter } from '../../helper/alerting.js';
import { HttpClient } from '../../helper/http.js';
import { AlertResolver } from '../../helper/resolver.js';
import { QueuedExporter, type SendContext } from '../../helper/sender.js';
import { createDefaultConfig, schema, validate, type PagerDutyExporterConfig } from './config.js';
import { resolveEvent, triggerEvent } from './event.js';

function createPagerDutyExporter(settings: CreateSettings<PagerDutyExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const limiter = new RateLimiter(config.rate_limit);
  const headers = { 'content-type': 'application/json', 'user-agent': 'watchpost' };
  const fallbackSource = hostname();
  const post = (body: Record<string, unknown>, signal: AbortSignal) => client.send(config.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal });
  const resolver = config.send_resolve
    ? new AlertResolver({
      id: settings.id,
      storage: settings.storage,
      logger: settings.logger,
      metrics: settings.metrics,
      maxOpen: config.max_open_alerts,
      retry: config.retry_on_failure,
      timeout: config.timeout,
      resolve: async (fingerprint, _alert, signal) => {
        await post(resolveEvent(fingerprint, config.routing_key), signal);
      },
    })
    : undefined;

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const messages = batch.findings.map((finding) => ({
      findings: [finding],
      send: async (abort: AbortSignal) => {
        await post(triggerEvent(finding, config, fallbackSource), abort);
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

export const pagerDutyExporterFactory: ExporterFactory<PagerDutyExporterConfig> = {
  kind: 'exporter',
  type: 'pagerduty',
  description: 'Triggers PagerDuty alerts (Events API v2) keyed by finding fingerprint and resolves them when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createPagerDutyExporter,
};
