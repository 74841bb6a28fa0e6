import { hostname } from 'node:os';
import type { CreateSettings, ExporterFactory } from '../../../core/component.js';
import type { Batch } from '../../../core/data/batch.js';
import type { Finding } from '../../../core/data/finding.js';
import { QueuedExporter } from '../../helper/sender.js';
import { createDefaultConfig, FACILITIES, schema, validate, type SyslogExporterConfig } from './config.js';
import { cefRecord, leefRecord, rfc5424Message, withSyslogHeader, type MessageOptions } from './format.js';
import { createTransport } from './transport.js';

/** The version written into CEF and LEEF headers. */
const PRODUCT_VERSION = '0.1.0';

/** Cuts a message to `max` bytes without splitting a UTF-8 character. */
export function truncateBytes(message: string, max: number): string {
  const bytes = Buffer.from(message);
  if (bytes.length <= max) return message;
  return bytes.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
}

function formatter(config: SyslogExporterConfig, options: MessageOptions): (finding: Finding) => string {
  switch (config.format) {
    case 'cef': return (finding) => withSyslogHeader(cefRecord(finding, options), finding, config.syslog_header, options);
    case 'leef': return (finding) => withSyslogHeader(leefRecord(finding, options), finding, config.syslog_header, options);
    default: return (finding) => rfc5424Message(finding, options);
  }
}

function createSyslogExporter(settings: CreateSettings<SyslogExporterConfig>): QueuedExporter {
  const { config } = settings;
  const transport = createTransport({ endpoint: config.endpoint, transport: config.transport, framing: config.framing, tls: config.tls });
  const format = formatter(config, {
    facility: FACILITIES[config.facility],
    hostname: config.hostname || hostname(),
    appName: config.app_name,
    procId: String(process.pid),
    sdId: config.sd_id,
    version: PRODUCT_VERSION,
  });
  const truncated = settings.metrics.registry.counter('watchpost_exporter_truncated_messages_total', 'Messages an exporter cut to its maximum message size.');

  const send = async (batch: Batch, signal: AbortSignal): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const messages = batch.findings.map((finding) => {
      const message = format(finding);
      const cut = truncateBytes(message, config.max_message_size);
      if (cut !== message) truncated.add({ exporter: settings.id });
      return cut;
    });
    await transport.send(messages, signal);
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    onStart: async () => settings.logger.info({ endpoint: config.endpoint, transport: config.transport, format: config.format }, 'sending findings over syslog'),
    onShutdown: async () => transport.close(),
  });
}

export const syslogExporterFactory: ExporterFactory<SyslogExporterConfig> = {
  kind: 'exporter',
  type: 'syslog',
  description: 'Sends findings over syslog (UDP, TCP or TLS) as RFC 5424 structured data, CEF or LEEF 2.0.',
  signals: ['findings'],
  schema,
  createDefaultConfig,
  validate,
  create: createSyslogExporter,
};
