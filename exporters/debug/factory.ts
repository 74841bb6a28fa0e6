import type { CreateSettings, ExporterFactory } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import { object, string } from '../../core/config/schema.js';
import { ITEM_NOUN } from '../../core/data/signal.js';
import { toOtlpJson } from '../../core/otlp/json.js';
import { defaultHelperConfig, type ExporterHelperConfig } from '../helper/config.js';
import { QueuedExporter } from '../helper/sender.js';

export interface DebugExporterConfig extends ExporterHelperConfig {
  /**
   * `basic` logs one line per batch with the item count; `normal` adds one line per finding;
   * `detailed` also logs telemetry batches in full as OTLP/JSON. Default `normal`.
   */
  verbosity: 'basic' | 'normal' | 'detailed';
}

function createDefaultConfig(): DebugExporterConfig {
  return { ...defaultHelperConfig(), verbosity: 'normal' };
}

const schema = object({ verbosity: string({ enum: ['basic', 'normal', 'detailed'] as const }) });

function createDebugExporter(settings: CreateSettings<DebugExporterConfig>): QueuedExporter {
  const { logger, config } = settings;
  const send = async (batch: Batch): Promise<void> => {
    if (batch.signal === 'findings' && config.verbosity !== 'basic') {
      for (const finding of batch.findings) {
        logger.info({
          finding: {
            rule: finding.rule.id,
            severity: finding.severity,
            status: finding.status,
            actor: finding.actor.address ?? finding.actor.identity,
            target: `${finding.target.method ?? ''} ${finding.target.path ?? ''}`.trim(),
            count: finding.count,
            evidence: finding.evidence[0]?.summary,
          },
        }, `finding: ${finding.rule.name}`);
      }
      return;
    }
    if (batch.signal !== 'findings' && config.verbosity === 'detailed') {
      logger.info({ signal: batch.signal, data: toOtlpJson(batch.signal, batch.toMessage()) }, `${batch.itemCount} ${ITEM_NOUN[batch.signal]}`);
      return;
    }
    logger.info({ signal: batch.signal, items: batch.itemCount }, `${batch.itemCount} ${ITEM_NOUN[batch.signal]}`);
  };
  return new QueuedExporter({ id: settings.id, config: { ...config, sending_queue: { ...config.sending_queue, enabled: false } }, logger, metrics: settings.metrics, send });
}

export const debugExporterFactory: ExporterFactory<DebugExporterConfig> = {
  kind: 'exporter',
  type: 'debug',
  description: 'Logs what it receives through the daemon logger: counts, findings, or whole batches.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  create: createDebugExporter,
};
