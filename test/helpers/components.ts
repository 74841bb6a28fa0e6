import type { Component, ExporterFactory, PipelineInput, ReceiverFactory } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { object, string } from '../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, type ExporterHelperConfig } from '../../exporters/helper/config.js';
import { QueuedExporter } from '../../exporters/helper/sender.js';
import { SendError } from '../../exporters/helper/errors.js';
import type { Signal } from '../../core/data/signal.js';

/** Lifecycle events of the test components, in order, as `start:<id>` and `shutdown:<id>`. */
export const lifecycle: string[] = [];
/** What each `test_source` receiver may push into, by receiver id. */
export const sources = new Map<string, Partial<Record<Signal, PipelineInput>>>();
/** What each `capture` exporter delivered, by exporter id. */
export const captured = new Map<string, Batch[]>();

/** A receiver that produces nothing by itself; tests push batches into its pipelines through `sources`. */
export const testSourceFactory: ReceiverFactory<Record<string, never>> = {
  kind: 'receiver',
  type: 'test_source',
  description: 'test receiver',
  signals: ['traces', 'metrics', 'logs'],
  schema: object({}),
  createDefaultConfig: () => ({}),
  create(settings): Component {
    sources.set(settings.id, settings.consumers);
    return {
      start: async () => { lifecycle.push(`start:${settings.id}`); },
      shutdown: async () => { lifecycle.push(`shutdown:${settings.id}`); },
    };
  },
};

interface CaptureConfig extends ExporterHelperConfig {
  /** `ok` records batches, `fail` rejects every send with a permanent error, `hang` never completes a send. */
  mode: 'ok' | 'fail' | 'hang';
}

/** An exporter on the shared exporter helper whose send records, fails or hangs. */
export const captureExporterFactory: ExporterFactory<CaptureConfig> = {
  kind: 'exporter',
  type: 'capture',
  description: 'test exporter',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema: object({ mode: string({ enum: ['ok', 'fail', 'hang'] as const }), ...helperSchemaFields }),
  createDefaultConfig: () => ({ ...defaultHelperConfig(), mode: 'ok' }),
  create(settings) {
    captured.set(settings.id, []);
    return new QueuedExporter({
      id: settings.id,
      config: settings.config,
      logger: settings.logger,
      metrics: settings.metrics,
      send: async (batch, signal) => {
        if (settings.config.mode === 'fail') throw new SendError('refused by test', { retryable: false, status: 400 });
        if (settings.config.mode === 'hang') {
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          throw new Error('hung until the timeout');
        }
        captured.get(settings.id)?.push(batch);
      },
      onStart: async () => { lifecycle.push(`start:${settings.id}`); },
      onShutdown: async () => { lifecycle.push(`shutdown:${settings.id}`); },
    });
  },
};
