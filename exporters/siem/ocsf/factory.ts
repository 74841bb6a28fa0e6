import { mkdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { HttpClient } from '../../helper/http.js';
import { QueuedExporter } from '../../helper/sender.js';
import { createDefaultConfig, schema, validate, type OcsfExporterConfig } from './config.js';
import { detectionFinding } from './ocsf.js';

const PRODUCT_VERSION = '0.1.0';

function createOcsfExporter(settings: CreateSettings<OcsfExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = config.endpoint ? new HttpClient({ tls: config.tls }) : undefined;
  const path = config.path ? resolve(config.path) : '';
  // One writer at a time, so lines from concurrent queue consumers never interleave.
  let tail: Promise<void> = Promise.resolve();

  const send = async (batch: Batch, signal: AbortSignal): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const events = batch.findings.map((finding) => detectionFinding(finding, PRODUCT_VERSION));
    if (client) {
      const ndjson = config.encoding === 'ndjson';
      const body = ndjson ? events.map((event) => `${JSON.stringify(event)}\n`).join('') : JSON.stringify(events);
      const headers = { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json', 'user-agent': 'watchpost', ...config.headers };
      await client.send(config.endpoint, { method: 'POST', headers, body, signal });
      return;
    }
    const text = events.map((event) => `${JSON.stringify(event)}\n`).join('');
    const write = tail.then(() => appendFile(path, text));
    tail = write.catch(() => undefined);
    await write;
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    onStart: async () => {
      if (path) mkdirSync(dirname(path), { recursive: true });
      settings.logger.info(path ? { path } : { endpoint: config.endpoint }, 'sending findings as OCSF Detection Finding events');
    },
    onShutdown: async () => {
      await tail;
      client?.close();
    },
  });
}

export const ocsfExporterFactory: ExporterFactory<OcsfExporterConfig> = {
  kind: 'exporter',
  type: 'ocsf',
  description: 'Sends findings as OCSF Detection Finding (class 2004) events over HTTP or to a JSON-lines file.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createOcsfExporter,
};
