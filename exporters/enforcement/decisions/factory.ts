import type { CreateSettings, Exporter, ExporterFactory, Host } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { retryableError } from '../../../core/errors.js';
import { Enforcer } from '../../helper/enforcement/enforcer.js';
import { DecisionsApi } from './api.js';
import { createDefaultConfig, schema, validate, type DecisionsExporterConfig } from './config.js';

/**
 * Turns findings into ban decisions with the enforcement policy and serves them to CrowdSec
 * bouncers on the admin endpoint. consume() resolves once the decisions are stored in lmdb, so a
 * receiver acknowledges findings only after their decisions survive a crash.
 */
class DecisionsExporter implements Exporter {
  private readonly enforcer: Enforcer;
  private readonly api: DecisionsApi;
  private running = false;
  private stopped = false;

  constructor(private readonly settings: CreateSettings<DecisionsExporterConfig>) {
    const { config } = settings;
    this.enforcer = new Enforcer({
      id: settings.id,
      policy: config.policy,
      storage: settings.storage,
      logger: settings.logger,
      metrics: settings.metrics,
      maxActive: config.max_active,
      expiredRetention: config.expired_retention,
    });
    this.api = new DecisionsApi({
      id: settings.id,
      apiKeys: config.api_keys,
      pathPrefix: config.path_prefix,
      storage: settings.storage,
      store: () => (this.running ? this.enforcer.store : undefined),
      requests: settings.metrics.registry.counter('watchpost_decisions_api_requests_total', 'Requests to the decisions API, by route and outcome.'),
    });
  }

  async start(host: Host): Promise<void> {
    this.enforcer.start();
    this.api.register(host);
    this.running = true;
    this.settings.logger.info({ path: `${this.settings.config.path_prefix}/v1/decisions`, bouncers: this.settings.config.api_keys.length, dry_run: this.settings.config.policy.dry_run || undefined }, 'serving decisions to bouncers');
  }

  async consume(batch: Batch): Promise<void> {
    if (!this.running) throw retryableError('WP_ERR_SHUTTING_DOWN', `exporter ${this.settings.id} is not running`);
    if (batch.signal !== 'findings') return;
    await this.enforcer.apply(batch.findings);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    await this.enforcer.stop();
  }
}

export const decisionsExporterFactory: ExporterFactory<DecisionsExporterConfig> = {
  kind: 'exporter',
  type: 'decisions',
  description: 'Turns findings into ban decisions and serves them to CrowdSec bouncers on the admin endpoint.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => new DecisionsExporter(settings),
};
