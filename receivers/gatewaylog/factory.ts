import type { Component, Host, PipelineInput, ReceiverFactory, ReceiverSettings } from '../../core/component.js';
import { errorMessage } from '../../core/errors.js';
import { ingest } from '../helper/ingest.js';
import { createDefaultConfig, FORMAT_NAMES, schema, type GatewayLogConfig } from './config.js';
import { FileTailer } from './tail.js';
import { compileNginxFormat } from '../helper/accesslog/nginx.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

export function parserOptions(config: GatewayLogConfig): unknown {
  return config.format === 'nginx' ? { log_format: config.log_format } : {};
}

class GatewayLogReceiver implements Component {
  private readonly tailer: FileTailer;
  private readonly input: PipelineInput;

  constructor(private readonly settings: ReceiverSettings<GatewayLogConfig>) {
    this.input = settings.consumers.logs as PipelineInput;
    const config = settings.config;
    this.tailer = new FileTailer({
      include: config.include,
      exclude: config.exclude,
      startAt: config.start_at,
      pollIntervalMs: config.poll_interval,
      maxLineBytes: config.max_log_size,
      maxBatchLines: config.max_batch_lines,
      logger: settings.logger,
      deliver: (lines, path) => this.deliver(lines, path),
    });
  }

  async start(_host: Host): Promise<void> {
    this.tailer.start();
  }

  async shutdown(): Promise<void> {
    await this.tailer.stop();
  }

  private async deliver(lines: string[], path: string): Promise<void> {
    const outcome = await ingest(this.settings.pool, this.settings.metrics, this.input, 'logs', {
      kind: 'lines',
      parser: this.settings.id,
      lines,
      context: { observedMs: Date.now(), attributes: { 'log.file.path': path }, resource: this.settings.config.resource },
    }, { receiver: this.settings.id });
    this.settings.metrics.receiverParseFailures.add({ receiver: this.settings.id, format: this.settings.config.format }, outcome.parseFailures);
  }
}

export const gatewayLogReceiverFactory: ReceiverFactory<GatewayLogConfig> = {
  kind: 'receiver',
  type: 'gatewaylog',
  description: 'Follows API-gateway and reverse-proxy access-log files (nginx combined and custom log_format).',
  signals: ['logs'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  validate(config, report) {
    if (config.format === 'nginx') {
      if (!config.log_format) report('format "nginx" needs a log_format string', 'log_format');
      else {
        try {
          compileNginxFormat(config.log_format);
        } catch (error) {
          report(errorMessage(error), 'log_format');
        }
      }
    }
  },
  parsers: (id, config) => [{ id, format: config.format, module: WORKER_MODULE, options: parserOptions(config) }],
  lineFormats: FORMAT_NAMES,
  parserForFormat: (id, format) => ({ id, format, module: WORKER_MODULE, options: {} }),
  create: (settings) => new GatewayLogReceiver(settings),
};
