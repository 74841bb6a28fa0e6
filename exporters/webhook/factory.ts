import type { ExporterFactory } from '../../core/component.js';
import { createDefaultConfig, schema, validate, type WebhookExporterConfig } from './config.js';
import { createWebhookExporter } from './webhook.js';

export const webhookExporterFactory: ExporterFactory<WebhookExporterConfig> = {
  kind: 'exporter',
  type: 'webhook',
  description: 'POSTs findings, or the ban decisions made from them, as JSON; optionally signed as Standard Webhooks.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createWebhookExporter,
};
