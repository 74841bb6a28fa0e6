import type { Component, Host, PipelineInput, ReceiverFactory, ReceiverSettings } from '../../core/component.js';
import type { ParserSpec } from '../../core/pool/pool.js';
import type { Counter } from '../../core/telemetry/metrics.js';
import { ingest } from '../helper/ingest.js';
import { checkFormatOptions, FORMAT_NAMES, type FormatOptions } from '../helper/accesslog/formats.js';
import { createDefaultConfig, schema, type GatewayLogConfig } from './config.js';
import { FileTailer } from './tail.js';
import { LmdbCheckpointStore } from './checkpoint.js';
import { PushServer } from './http.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/** Builds the options the worker's parser of this receiver gets. */
export function parserOptions(config: Pick<GatewayLogConfig, 'log_format' | 'trusted_proxies' | 'timezone'>): FormatOptions {
  const options: FormatOptions = { trusted_proxies: config.trusted_proxies, timezone: config.timezone };
  if (config.log_format) options.log_format = config.log_format;
  return options;
}

/** Option keys the CLI's `--option key=value` may set; lists are comma-separated. */
const TEXT_OPTIONS = ['log_format', 'trusted_proxies', 'timezone'];

/** Reads format options given as text, as the CLI passes them; throws naming the first problem. */
export function formatOptionsFromText(format: string, text: Readonly<Record<string, string>>): FormatOptions {
  for (const key of Object.keys(text)) {
    if (!TEXT_OPTIONS.includes(key)) throw new Error(`unknown format option "${key}"; known options: ${TEXT_OPTIONS.join(', ')}`);
  }
  const options: FormatOptions = {};
  if (text.log_format !== undefined) options.log_format = text.log_format;
  if (text.timezone !== undefined) options.timezone = text.timezone;
  if (text.trusted_proxies !== undefined) options.trusted_proxies = text.trusted_proxies.split(',').map((entry) => entry.trim()).filter(Boolean);
  const problems = checkFormatOptions(format, options);
  if (problems.length > 0) throw new Error(problems.map((problem) => problem.message).join('; '));
  return options;
}

class GatewayLogReceiver implements Component {
  private readonly tailer: FileTailer | undefined;
  private readonly push: PushServer | undefined;
  private readonly input: PipelineInput;
  private readonly truncated: Counter;
  private readonly dropped: Counter;

  constructor(private readonly settings: ReceiverSettings<GatewayLogConfig>) {
    this.input = settings.consumers.logs as PipelineInput;
    const config = settings.config;
    const registry = settings.metrics.registry;
    this.truncated = registry.counter('watchpost_gatewaylog_lines_truncated_total', 'Lines cut to max_log_size.');
    this.dropped = registry.counter('watchpost_gatewaylog_dropped_total', 'Lines or files a gatewaylog receiver left out, by reason.');
    if (config.include.length > 0) this.tailer = this.createTailer(config);
    if (config.http.endpoint) {
      this.push = new PushServer({
        config: config.http,
        format: config.format,
        admission: settings.admission,
        logger: settings.logger,
        handle: (lines, peer) => this.deliver(lines, {}, peer),
      });
    }
  }

  private createTailer(config: GatewayLogConfig): FileTailer {
    const labels = { receiver: this.settings.id };
    return new FileTailer({
      include: config.include,
      exclude: config.exclude,
      startAt: config.start_at,
      pollIntervalMs: config.poll_interval,
      maxLineBytes: config.max_log_size,
      maxBatchLines: config.max_batch_lines,
      maxFiles: config.max_concurrent_files,
      rotateWaitMs: config.rotate_wait,
      fingerprintBytes: config.fingerprint_size,
      checkpoints: new LmdbCheckpointStore(this.settings.storage, this.settings.id),
      logger: this.settings.logger,
      whenAdmitted: () => this.settings.admission.whenAdmitted(),
      deliver: async (lines, path) => {
        await this.deliver(lines, { 'log.file.path': path });
      },
      count: (event, amount) => {
        if (event === 'truncated') this.truncated.add(labels, amount);
        else this.dropped.add({ ...labels, reason: event === 'files_skipped' ? 'max_concurrent_files' : 'rejected' }, amount);
      },
    });
  }

  async start(_host: Host): Promise<void> {
    await this.push?.start();
    this.tailer?.start();
  }

  /** Stops taking input (the push endpoint, then the tailer, whose offsets are saved as it goes). */
  async shutdown(): Promise<void> {
    await this.push?.shutdown();
    await this.tailer?.stop();
  }

  /** Parses lines in the worker pool and passes the records on; resolves once the pipelines took them. */
  private async deliver(lines: string[], attributes: Record<string, string>, peerAddress?: string): Promise<{ accepted: number; unparsed: number }> {
    const context = { observedMs: Date.now(), attributes, resource: this.settings.config.resource };
    const outcome = await ingest(this.settings.pool, this.settings.metrics, this.input, 'logs', {
      kind: 'lines',
      parser: this.settings.id,
      lines,
      context,
    }, { receiver: this.settings.id, peerAddress });
    this.settings.metrics.receiverParseFailures.add({ receiver: this.settings.id, format: this.settings.config.format }, outcome.parseFailures);
    return { accepted: outcome.accepted, unparsed: outcome.parseFailures };
  }
}

export const gatewayLogReceiverFactory: ReceiverFactory<GatewayLogConfig> = {
  kind: 'receiver',
  type: 'gatewaylog',
  description: 'Reads API-gateway and reverse-proxy logs (nginx, Apache, Envoy, Kong, Traefik, HAProxy, AWS, Caddy) from files and an HTTP push endpoint.',
  signals: ['logs'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  validate(config, report) {
    if (config.include.length === 0 && !config.http.endpoint) report('set include, http.endpoint, or both; this receiver has nothing to read', 'include');
    for (const problem of checkFormatOptions(config.format, parserOptions(config))) report(problem.message, problem.option);
  },
  parsers: (id, config): ParserSpec[] => [{ id, format: config.format, module: WORKER_MODULE, options: parserOptions(config) }],
  lineFormats: FORMAT_NAMES,
  parserForFormat: (id, format, options = {}) => ({ id, format, module: WORKER_MODULE, options: formatOptionsFromText(format, options) }),
  create: (settings) => new GatewayLogReceiver(settings),
};
