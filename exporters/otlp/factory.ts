import type { CreateSettings, ExporterFactory } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Logger } from '../../core/logger.js';
import { encodeRequest } from '../../core/otlp/codec.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import { QueuedExporter } from '../helper/sender.js';
import { createDefaultConfig, schema, validateConfig, type OtlpExporterConfig } from './config.js';
import { findingsToLogs } from './findings.js';
import { GrpcTransport } from './grpc.js';
import { HttpTransport } from './http.js';
import type { OtlpTransport } from './transport.js';

/** How often partial successes are logged at most, in milliseconds. */
const LOG_INTERVAL_MS = 60_000;

/**
 * Returns the signal and protobuf bytes to send for a batch. A telemetry batch that no
 * processor changed still contains the bytes it arrived with (or the worker's marked copy).
 * Those go out as they are, with no encoding on this thread. Findings become a logs request.
 */
export function exportPayload(batch: Batch): { signal: TelemetrySignal; request: Uint8Array } {
  if (batch.signal === 'findings') return { signal: 'logs', request: encodeRequest('logs', findingsToLogs(batch.findings)) };
  return { signal: batch.signal, request: batch.toBytes() };
}

/**
 * Counts items the server rejected in a partial success in
 * `watchpost_exporter_rejected_items_total`, and logs them at most once a minute with the total.
 */
class PartialSuccessLog {
  private pending = 0;
  private lastLogAt = 0;
  private lastMessage = '';

  constructor(private readonly id: string, private readonly logger: Logger, private readonly counter: Counter) {}

  record(signal: TelemetrySignal, rejected: number, message: string): void {
    if (rejected > 0) this.counter.add({ exporter: this.id, signal }, rejected);
    this.pending += rejected;
    this.lastMessage = message;
    if (Date.now() - this.lastLogAt >= LOG_INTERVAL_MS) this.flush();
  }

  flush(): void {
    if (this.pending === 0 && this.lastMessage === '') return;
    this.logger.warn({ rejected: this.pending, last_error: this.lastMessage.slice(0, 1024) }, 'the OTLP server rejected part of the data it accepted');
    this.pending = 0;
    this.lastMessage = '';
    this.lastLogAt = Date.now();
  }
}

function createOtlpExporter(settings: CreateSettings<OtlpExporterConfig>): QueuedExporter {
  const { config, logger } = settings;
  let transport: OtlpTransport | undefined;
  const rejectedItems = settings.metrics.registry.counter('watchpost_exporter_rejected_items_total', 'Items an OTLP server accepted the request of but rejected, as its partial success reported.');
  const partialSuccesses = new PartialSuccessLog(settings.id, logger, rejectedItems);

  return new QueuedExporter({
    id: settings.id,
    config,
    logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send: async (batch, abort) => {
      const { signal, request } = exportPayload(batch);
      const answer = await (transport as OtlpTransport).send(signal, request, abort);
      if (answer.rejected > 0 || answer.errorMessage !== '') partialSuccesses.record(signal, answer.rejected, answer.errorMessage);
    },
    onStart: async () => {
      transport = config.protocol === 'grpc' ? new GrpcTransport(config) : new HttpTransport(config);
      const headers = Object.keys(config.headers);
      logger.info({ endpoint: config.endpoint || undefined, protocol: config.protocol, compression: config.compression, headers: headers.length > 0 ? headers : undefined }, 'OTLP exporter ready');
    },
    onShutdown: async () => {
      partialSuccesses.flush();
      transport?.close();
    },
  });
}

export const otlpExporterFactory: ExporterFactory<OtlpExporterConfig> = {
  kind: 'exporter',
  type: 'otlp',
  description: 'Sends traces, metrics and logs over OTLP/gRPC or OTLP/HTTP; findings as OTLP log records.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  create: createOtlpExporter,
};
