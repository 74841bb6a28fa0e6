import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ComponentStatus, CreateSettings, Exporter, ExporterFactory, Host } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import { errorMessage, retryableError } from '../../../core/errors.js';
import type { Counter } from '../../../core/telemetry/metrics.js';
import { Enforcer } from '../../helper/enforcement/enforcer.js';
import { createDefaultConfig, schema, validate, type DenyListExporterConfig } from './config.js';
import { isSafeKey, renderDenyList, replaceFile } from './file.js';

/**
 * Keeps a deny-list file in nginx or HAProxy map format in step with the active ban decisions. The
 * file is written at start from the decisions in lmdb and rewritten atomically, at most once per
 * `flush_interval`, when decisions are made or expire. The reload command runs after each write.
 */
class DenyListExporter implements Exporter {
  private readonly enforcer: Enforcer;
  private readonly path: string;
  private host: Host | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private lastText: string | undefined;
  private running = false;
  private stopped = false;
  private readonly unsafe: Counter;
  private readonly reloads: Counter;

  constructor(private readonly settings: CreateSettings<DenyListExporterConfig>) {
    const { config } = settings;
    this.path = resolve(config.path);
    this.enforcer = new Enforcer({
      id: settings.id,
      policy: config.policy,
      storage: settings.storage,
      logger: settings.logger,
      metrics: settings.metrics,
      maxActive: config.max_active,
      onExpired: () => this.schedule(),
    });
    const registry = settings.metrics.registry;
    this.unsafe = registry.counter('watchpost_enforcement_unsafe_values_total', 'Decision values left out of a deny-list file because they hold characters the file format could misread.');
    this.reloads = registry.counter('watchpost_enforcement_reloads_total', 'Runs of a deny-list reload command, by outcome.');
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.enforcer.start();
    this.lastText = await readFile(this.path, 'utf8').catch(() => undefined);
    this.running = true;
    await this.flush();
    this.settings.logger.info({ path: this.path, format: this.settings.config.format, scope: this.settings.config.scope }, 'writing the deny list');
  }

  async consume(batch: Batch): Promise<void> {
    if (!this.running) throw retryableError('WP_ERR_SHUTTING_DOWN', `exporter ${this.settings.id} is not running`);
    if (batch.signal !== 'findings') return;
    const made = await this.enforcer.apply(batch.findings);
    if (made.some((decision) => decision.scope === this.settings.config.scope && !decision.dry_run)) this.schedule();
  }

  /** Writes changes still waiting for `flush_interval`, then stops. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const pending = this.timer !== undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = false;
    await this.enforcer.stop();
    if (pending) await this.flush();
    await this.writing;
  }

  /** Writes the file after `flush_interval`, gathering the changes made meanwhile into one write. */
  private schedule(): void {
    if (!this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.settings.config.flush_interval);
  }

  private flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write()).catch((error: unknown) => {
      this.report('failing', `cannot write the deny list: ${errorMessage(error)}`);
      this.settings.logger.error({ err: errorMessage(error), path: this.path }, 'cannot write the deny list; enforcement points keep the previous one');
    });
    return this.writing;
  }

  private async write(): Promise<void> {
    const { config } = this.settings;
    const decisions = (this.enforcer.store?.list() ?? []).filter((decision) => decision.scope === config.scope && !decision.dry_run);
    const unsafe = decisions.filter((decision) => !isSafeKey(decision.value)).length;
    if (unsafe > 0) this.unsafe.add({ exporter: this.settings.id }, unsafe);
    const text = renderDenyList(decisions, config.format, config.value, this.settings.id);
    if (text === this.lastText) return;
    await replaceFile(this.path, text);
    this.lastText = text;
    await this.reload();
  }

  private async reload(): Promise<void> {
    const [program, ...args] = this.settings.config.reload_command;
    if (!program) {
      this.report('ok');
      return;
    }
    try {
      await new Promise<void>((resolveRun, reject) => {
        execFile(program, args, { timeout: this.settings.config.reload_timeout }, (error, _stdout, stderr) => {
          if (error) reject(new Error(`${error.message.split('\n')[0]}${stderr ? `: ${stderr.trim().slice(0, 300)}` : ''}`));
          else resolveRun();
        });
      });
      this.reloads.add({ exporter: this.settings.id, outcome: 'ok' });
      this.report('ok');
    } catch (error) {
      this.reloads.add({ exporter: this.settings.id, outcome: 'failed' });
      this.report('degraded', `reload command failed: ${errorMessage(error)}`);
      this.settings.logger.error({ err: errorMessage(error), command: program }, 'deny list written, but the reload command failed');
    }
  }

  private report(status: ComponentStatus, message?: string): void {
    this.host?.reportStatus(this.settings.id, status, message);
  }
}

export const denyListExporterFactory: ExporterFactory<DenyListExporterConfig> = {
  kind: 'exporter',
  type: 'deny_list',
  description: 'Writes ban decisions to an nginx or HAProxy map file, replaced atomically, and runs a reload command.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: (settings) => new DenyListExporter(settings),
};
