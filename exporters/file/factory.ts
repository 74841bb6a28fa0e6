import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CreateSettings, ExporterFactory } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import type { WorkerPool } from '../../core/pool/pool.js';
import { QueuedExporter } from '../helper/sender.js';
import { createDefaultConfig, schema, type FileExporterConfig } from './config.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/**
 * Serializes a batch as JSON lines: one OTLP/JSON export request per telemetry batch, one
 * finding per line for findings. Telemetry is converted in the worker pool, because the
 * conversion costs more than anything else the main thread does with a batch.
 */
export async function toJsonLines(batch: Batch, pool: WorkerPool): Promise<string> {
  if (batch.signal === 'findings') return batch.findings.map((finding) => JSON.stringify(finding)).join('\n') + '\n';
  return `${await pool.toOtlpJson(batch.signal, batch.toBytes())}\n`;
}

/** Serializes a batch in the configured format; log records in `text` format become one line each. */
async function toLines(batch: Batch, pool: WorkerPool, format: FileExporterConfig['format']): Promise<string | Uint8Array> {
  if (format === 'text' && batch.signal === 'logs') return pool.run<Uint8Array>('file.logs_to_text', { bytes: batch.toBytes() });
  return toJsonLines(batch, pool);
}

function createFileExporter(settings: CreateSettings<FileExporterConfig>): QueuedExporter {
  const path = resolve(settings.config.path);
  let stream: WriteStream | undefined;
  // One writer at a time, so lines from concurrent queue consumers never interleave.
  let tail: Promise<void> = Promise.resolve();

  const write = (text: string | Uint8Array) => new Promise<void>((resolveWrite, reject) => {
    (stream as WriteStream).write(text, (error) => (error ? reject(error) : resolveWrite()));
  });

  return new QueuedExporter({
    id: settings.id,
    config: settings.config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send: (batch) => {
      const text = toLines(batch, settings.pool, settings.config.format);
      const next = Promise.all([text, tail]).then(([lines]) => write(lines));
      tail = next.catch(() => undefined);
      return next;
    },
    onStart: async () => {
      mkdirSync(dirname(path), { recursive: true });
      stream = createWriteStream(path, { flags: 'a' });
      await new Promise<void>((resolveOpen, reject) => {
        stream?.once('open', () => resolveOpen());
        stream?.once('error', reject);
      });
      settings.logger.info({ path }, 'writing to file');
    },
    onShutdown: async () => {
      await tail;
      await new Promise<void>((resolveEnd) => (stream ? stream.end(() => resolveEnd()) : resolveEnd()));
    },
  });
}

export const fileExporterFactory: ExporterFactory<FileExporterConfig> = {
  kind: 'exporter',
  type: 'file',
  description: 'Appends telemetry as OTLP/JSON lines or log bodies as text lines, and findings as JSON lines, to a file.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  create: createFileExporter,
};
