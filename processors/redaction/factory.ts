import type { Host, Processor, ProcessorFactory, ProcessorSettings } from '../../core/component.js';
import { FindingsBatch, type Batch } from '../../core/data/batch.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import { createDefaultConfig, schema, validateConfig, type RedactionConfig } from './config.js';
import { Redactor, type RedactionCounts, type RedactionOptions } from './redactor.js';
import type { RedactResult, RedactTask } from './worker.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

export function redactionOptions(config: RedactionConfig): RedactionOptions {
  return {
    action: config.action,
    maskText: config.mask_text,
    hashKey: config.hash_key,
    detectors: config.detectors,
    blockedKeys: config.blocked_keys,
    allowedKeys: config.allowed_keys,
    blockedValues: config.blocked_values,
    secretParameters: config.secret_parameters,
  };
}

/**
 * Masks or hashes secrets and personal data before export. Telemetry is redacted in the worker
 * pool; findings, which are few, on the main thread. Findings are copied first, because other
 * findings pipelines share the same objects.
 */
class RedactionProcessor implements Processor {
  private readonly options: RedactionOptions;
  private readonly findingsRedactor: Redactor;
  private readonly replaced: Counter;

  constructor(private readonly settings: ProcessorSettings<RedactionConfig>) {
    this.options = redactionOptions(settings.config);
    this.findingsRedactor = new Redactor(this.options);
    this.replaced = settings.metrics.registry.counter('watchpost_redaction_values_total', 'Secrets and personal data the redaction processor replaced, by kind.');
  }

  async start(_host: Host): Promise<void> {}

  async shutdown(): Promise<void> {}

  async consume(batch: Batch): Promise<void> {
    const { settings } = this;
    let output: Batch = batch;
    if (batch instanceof FindingsBatch) {
      const findings = structuredClone(batch.findings);
      for (const finding of findings) this.findingsRedactor.finding(finding);
      this.count('findings', this.findingsRedactor.takeCounts());
      output = new FindingsBatch(findings, batch.origin);
    } else {
      const task: RedactTask = { signal: batch.signal, bytes: batch.toBytes(), options: this.options };
      const result = await settings.pool.run<RedactResult>('redaction', task);
      this.count(batch.signal, result.counts);
      if (result.bytes) batch.replaceBytes(result.bytes, batch.itemCount);
    }
    settings.metrics.processorOutgoing.add({ processor: settings.id, signal: batch.signal }, output.itemCount);
    await settings.next.consume(output);
  }

  private count(signal: string, counts: RedactionCounts): void {
    for (const [kind, values] of Object.entries(counts)) this.replaced.add({ processor: this.settings.id, signal, kind }, values);
  }
}

export const redactionProcessorFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  description: 'Masks or hashes tokens, passwords, card numbers, e-mail addresses and user patterns in telemetry and findings.',
  signals: ['traces', 'metrics', 'logs', 'findings'],
  schema,
  createDefaultConfig,
  validate: validateConfig,
  workerModules: [WORKER_MODULE],
  create: (settings) => new RedactionProcessor(settings),
};
