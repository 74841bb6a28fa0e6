import type { Component, Host, ReceiverFactory, ReceiverSettings } from '../../core/component.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import { createDefaultConfig, resolveProtocols, schema, validateConfig, type OtlpReceiverConfig } from './config.js';
import { OtlpGrpcServer } from './grpc.js';
import { OtlpHttpServer } from './http.js';
import { RefusalLog } from './refusal.js';
import type { OtlpServerOptions } from './shared.js';

class OtlpReceiver implements Component {
  private readonly grpc?: OtlpGrpcServer;
  private readonly http?: OtlpHttpServer;
  private readonly refusals: RefusalLog;

  constructor(settings: ReceiverSettings<OtlpReceiverConfig>) {
    const protocols = resolveProtocols(settings.config);
    this.refusals = new RefusalLog(settings.id, settings.logger, settings.metrics.registry);
    const shared: OtlpServerOptions = {
      id: settings.id,
      consumers: settings.consumers as OtlpServerOptions['consumers'],
      pool: settings.pool,
      metrics: settings.metrics,
      logger: settings.logger,
      admission: settings.admission,
      refusals: this.refusals,
    };
    if (protocols.grpc) this.grpc = new OtlpGrpcServer({ ...shared, config: protocols.grpc });
    if (protocols.http) this.http = new OtlpHttpServer({ ...shared, config: protocols.http });
  }

  async start(_host: Host): Promise<void> {
    try {
      await this.grpc?.start();
      await this.http?.start();
    } catch (error) {
      // The service stops only components that started, so close a listener that did.
      await this.shutdown();
      throw error;
    }
  }

  /** Stops both listeners, waiting for requests in progress. Safe to call twice or before start. */
  async shutdown(): Promise<void> {
    await Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]);
    this.refusals.flush();
  }

  /** Returns the bound gRPC address, for tests that listen on port 0. */
  grpcAddress(): string | undefined {
    return this.grpc?.address();
  }

  /** Returns the bound HTTP address, for tests that listen on port 0. */
  httpAddress(): string | undefined {
    return this.http?.address();
  }
}

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  description: 'Receives traces, metrics and logs over OTLP/gRPC and OTLP/HTTP (protobuf and JSON).',
  signals: ['traces', 'metrics', 'logs'] satisfies TelemetrySignal[],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  create: (settings) => new OtlpReceiver(settings),
};
