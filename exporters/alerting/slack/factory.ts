import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { RateLimiter, sendEach, severityFilter } from '../../helper/alerting.js';
import { HttpClient } from '../../helper/http.js';
import { QueuedExporter, type SendContext } from '../../helper/sender.js';
import { createDefaultConfig, schema, validate, type SlackExporterConfig } from './config.js';
import { slackMessage } from './message.js';

function createSlackExporter(settings: CreateSettings<SlackExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const limiter = new RateLimiter(config.rate_limit);
  const headers = { 'content-type': 'application/json', 'user-agent': 'watchpost' };

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const messages = batch.findings.map((finding) => ({
      findings: [finding],
      send: async (abort: AbortSignal) => {
        await client.send(config.webhook_url, { method: 'POST', headers, body: JSON.stringify(slackMessage(finding, config.text)), signal: abort });
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
    onShutdown: async () => client.close(),
  });
}

export const slackExporterFactory: ExporterFactory<SlackExporterConfig> = {
  kind: 'exporter',
  type: 'slack',
  description: 'Posts findings to a Slack channel through an incoming webhook.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createSlackExporter,
};
