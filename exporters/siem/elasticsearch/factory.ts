import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import { FindingsBatch, type Batch } from '../../../core/data/batch.js';
import { permanentError } from '../../../core/errors.js';
import { SendError } from '../../helper/errors.js';
import { compressBody, HttpClient } from '../../helper/http.js';
import { QueuedExporter, type SendContext } from '../../helper/sender.js';
import { bulkBody, readBulkResponse } from './bulk.js';
import { createDefaultConfig, schema, validate, type ElasticsearchExporterConfig } from './config.js';

function bulkUrl(endpoint: string, pipeline: string): string {
  const url = new URL(endpoint);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/_bulk`;
  if (pipeline) url.searchParams.set('pipeline', pipeline);
  return url.toString();
}

function authorization(config: ElasticsearchExporterConfig): Record<string, string> {
  if (config.api_key) return { authorization: `ApiKey ${config.api_key}` };
  if (config.user) return { authorization: `Basic ${Buffer.from(`${config.user}:${config.password}`).toString('base64')}` };
  return {};
}

function createElasticsearchExporter(settings: CreateSettings<ElasticsearchExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls, maxResponseBytes: 16 * 1024 * 1024 });
  const urls = config.endpoints.map((endpoint) => bulkUrl(endpoint, config.pipeline));
  const headers = { 'content-type': 'application/x-ndjson', 'user-agent': 'watchpost', ...authorization(config) };
  let next = 0;

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    // Each attempt goes to the next endpoint, so a dead node is passed over on the retry.
    const target = urls[next++ % urls.length];
    const compressed = compressBody(bulkBody(batch.findings, config.index), config.compression);
    const response = await client.send(target, { method: 'POST', headers: { ...headers, ...compressed.headers }, body: compressed.body, signal });
    let outcome;
    try {
      outcome = readBulkResponse(response.body.toString('utf8'), batch.findings.length);
    } catch (error) {
      throw permanentError('WP_ERR_EXPORTER_SEND', `unreadable _bulk response: ${(error as Error).message}`, error);
    }
    if (outcome.rejected.length > 0) context.drop(outcome.rejected.length, 'permanent_error', new Error(`documents rejected: ${outcome.firstReason}`));
    if (outcome.retry.length > 0) {
      const remaining = new FindingsBatch(outcome.retry.map((index) => batch.findings[index]), batch.origin);
      throw new SendError(`${outcome.retry.length} of ${batch.findings.length} documents must be retried (429 or 5xx)`, { retryable: true, remaining });
    }
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    onStart: async () => settings.logger.info({ endpoints: config.endpoints, index: config.index }, 'sending findings to Elasticsearch'),
    onShutdown: async () => client.close(),
  });
}

export const elasticsearchExporterFactory: ExporterFactory<ElasticsearchExporterConfig> = {
  kind: 'exporter',
  type: 'elasticsearch',
  description: 'Writes findings to Elasticsearch as ECS documents with the _bulk API.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createElasticsearchExporter,
};
