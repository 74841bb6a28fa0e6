import type { Component, Host, ReceiverFactory, ReceiverSettings } from '../../core/component.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import { createDefaultConfig, resolveProtocols, schema, type OtlpReceiverConfig } from './config.js';
import { OtlpHttpServer } from './http.js';

class OtlpReceiver implements Component {
  private readonly http?: OtlpHttpServer;

  constructor(settings: ReceiverSettings<OtlpReceiverConfig>) {
    const protocols = resolveProtocols(settings.config);
    const consumers = settings.consumers as Partial<Record<TelemetrySignal, NonNullable<(typeof settings.consumers)['traces']>>>;
    if (protocols.http) {
      this.http = new OtlpHttpServer({ id: settings.id, config: protocols.http, consumers, pool: settings.pool, metrics: settings.metrics, logger: settings.logger, admission: settings.admission });
    }
  }

  async start(_host: Host): Promise<void> {
    await this.http?.start();
  }

  async shutdown(): Promise<void> {
    await this.http?.shutdown();
  }

  /** The bound HTTP address, for tests that listen on port 0. */
  httpAddress(): string | undefined {
    return this.http?.address();
  }
}

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  description: 'Receives traces, metrics and logs over OTLP/HTTP (protobuf and JSON).',
  signals: ['traces', 'metrics', 'logs'],
  schema,
  createDefaultConfig,
  validate(config, report) {
    if (!config.protocols.http) report('at least one protocol must be enabled; add "http:" under protocols', 'protocols');
  },
  create: (settings) => new OtlpReceiver(settings),
};
