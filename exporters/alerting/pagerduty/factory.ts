import { hostname } from 'node:os';
import type { ExporterFactory } from '../../../core/component.js';
import { createAlertingExporter } from '../../helper/alerting-exporter.js';
import { createDefaultConfig, schema, validate, type PagerDutyExporterConfig } from './config.js';
import { resolveEvent, triggerEvent } from './event.js';

const HEADERS = { 'content-type': 'application/json', 'user-agent': 'watchpost' };

export const pagerDutyExporterFactory: ExporterFactory<PagerDutyExporterConfig> = {
  kind: 'exporter',
  type: 'pagerduty',
  description: 'Triggers PagerDuty alerts (Events API v2) keyed by finding fingerprint and resolves them when findings stop.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => {
    const { config } = settings;
    const fallbackSource = hostname();
    return createAlertingExporter(settings, {
      sendOne: async (client, finding, signal) => {
        await client.send(config.endpoint, { method: 'POST', headers: HEADERS, body: JSON.stringify(triggerEvent(finding, config, fallbackSource)), signal });
      },
      resolve: config.send_resolve
        ? {
          resolveAfter: config.resolve_after,
          maxOpen: config.max_open_alerts,
          send: async (client, fingerprint, _alert, signal) => {
            await client.send(config.endpoint, { method: 'POST', headers: HEADERS, body: JSON.stringify(resolveEvent(fingerprint, config.routing_key)), signal });
          },
        }
        : undefined,
    });
  },
};
