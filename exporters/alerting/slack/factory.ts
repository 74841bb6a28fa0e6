import type { ExporterFactory } from '../../../core/component.js';
import { createAlertingExporter } from '../../helper/alerting-exporter.js';
import { createDefaultConfig, schema, validate, type SlackExporterConfig } from './config.js';
import { slackMessage } from './message.js';

const HEADERS = { 'content-type': 'application/json', 'user-agent': 'watchpost' };

export const slackExporterFactory: ExporterFactory<SlackExporterConfig> = {
  kind: 'exporter',
  type: 'slack',
  description: 'Posts findings to a Slack channel through an incoming webhook.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => {
    const { config } = settings;
    return createAlertingExporter(settings, {
      sendOne: async (client, finding, signal) => {
        await client.send(config.webhook_url, { method: 'POST', headers: HEADERS, body: JSON.stringify(slackMessage(finding, config.text)), signal });
      },
    });
  },
};
