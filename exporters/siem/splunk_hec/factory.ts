import { hostname } from 'node:os';
import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import { FindingsBatch, type Batch } from '../../../core/data/batch.js';
import { SendError } from '../../helper/errors.js';
import { compressBody, HttpClient } from '../../helper/http.js';
import { QueuedExporter } from '../../helper/sender.js';
import { createDefaultConfig, schema, validate, type SplunkHecExporterConfig } from './config.js';
import { hecEvent, packEvents } from './event.js';

const EVENT_PATH = '/services/collector/event';

function eventUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = EVENT_PATH;
  return url.toString();
}

function createSplunkHecExporter(settings: CreateSettings<SplunkHecExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const target = eventUrl(config.endpoint);
  const metadata = { host: config.host || hostname(), source: config.source, sourcetype: config.sourcetype, index: config.index };
  const headers: Record<string, string> = { authorization: `Splunk ${config.token}`, 'content-type': 'application/json', 'user-agent': 'watchpost' };
  if (config.channel) headers['x-splunk-request-channel'] = config.channel;

  const send = async (batch: Batch, signal: AbortSignal): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const events = batch.findings.map((finding) => JSON.stringify(hecEvent(finding, metadata)));
    let offset = 0;
    for (const { body, count } of packEvents(events, config.max_content_length)) {
      const compressed = compressBody(body, config.compression);
      try {
        await client.send(target, { method: 'POST', headers: { ...headers, ...compressed.headers }, body: compressed.body, signal });
      } catch (error) {
        // Earlier requests went through; the next attempt starts with the events of this one.
        if (error instanceof SendError && offset > 0) {
          throw new SendError(error.message, { retryable: error.retryable, retryAfterMs: error.retryAfterMs, status: error.status, remaining: new FindingsBatch(batch.findings.slice(offset), batch.origin) });
        }
        throw error;
      }
      offset += count;
    }
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    onStart: async () => settings.logger.info({ endpoint: target }, 'sending findings to Splunk HEC'),
    onShutdown: async () => client.close(),
  });
}

export const splunkHecExporterFactory: ExporterFactory<SplunkHecExporterConfig> = {
  kind: 'exporter',
  type: 'splunk_hec',
  description: 'Sends findings to the Splunk HTTP Event Collector as batched JSON events.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createSplunkHecExporter,
};
