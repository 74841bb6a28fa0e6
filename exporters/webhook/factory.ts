import type { CreateSettings, ExporterFactory } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { object, record, string, url } from '../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, type ExporterHelperConfig } from '../helper/config.js';
import { HttpClient } from '../helper/http.js';
import { QueuedExporter } from '../helper/sender.js';

export interface WebhookExporterConfig extends ExporterHelperConfig {
  /** The URL each finding is POSTed to as JSON. */
  endpoint: string;
  /** Extra request headers, such as an Authorization header from `${env:…}`. */
  headers: Record<string, string>;
}

function createDefaultConfig(): WebhookExporterConfig {
  return { ...defaultHelperConfig(), endpoint: '', headers: {} };
}

const schema = object({
  endpoint: url(),
  headers: record(string({ allowEmpty: true })),
  ...helperSchemaFields,
}, { required: ['endpoint'] });

function createWebhookExporter(settings: CreateSettings<WebhookExporterConfig>): QueuedExporter {
  const client = new HttpClient();
  const { endpoint, headers } = settings.config;
  const send = async (batch: Batch, signal: AbortSignal): Promise<void> => {
    if (batch.signal !== 'findings') return;
    for (const finding of batch.findings) {
      await client.send(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'watchpost', ...headers },
        body: JSON.stringify(finding),
        signal,
      });
    }
  };
  return new QueuedExporter({
    id: settings.id,
    config: settings.config,
    logger: settings.logger,
    metrics: settings.metrics,
    send,
    onShutdown: async () => client.close(),
  });
}

export const webhookExporterFactory: ExporterFactory<WebhookExporterConfig> = {
  kind: 'exporter',
  type: 'webhook',
  description: 'POSTs each finding as JSON to an HTTP endpoint.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  create: createWebhookExporter,
};
