import type { ReceiverFactory } from '../../core/component.js';
import { fieldParser } from '../helper/accesslog/formats.js';
import { errorMessage } from '../../core/errors.js';
import { createDefaultConfig, schema, type SyslogReceiverConfig } from './config.js';
import { SyslogReceiver } from './receiver.js';
import { TimeZone } from './timezone.js';
import type { SyslogParserOptions } from './worker.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/** Formats for `watchpost parse` and `replay`: `syslog` detects the protocol per message. */
const LINE_FORMATS = ['syslog', 'rfc5424', 'rfc3164'] as const;

export function parserOptions(config: SyslogReceiverConfig): SyslogParserOptions {
  const options: SyslogParserOptions = {
    protocol: config.protocol,
    location: config.location,
    allow_skip_pri_header: config.allow_skip_pri_header,
    rfc3164: config.rfc3164,
  };
  if (config.access_log) options.access_log = { format: config.access_log.format, log_format: config.access_log.log_format || undefined };
  return options;
}

export const syslogReceiverFactory: ReceiverFactory<SyslogReceiverConfig> = {
  kind: 'receiver',
  type: 'syslog',
  description: 'Receives syslog (RFC 5424, RFC 3164 and device variants) over TCP, TLS and UDP.',
  signals: ['logs'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  validate(config, report) {
    if (!config.tcp && !config.udp) report('at least one transport must be enabled; add "tcp:" or "udp:"');
    if (!TimeZone.isValid(config.location)) report(`unknown time zone "${config.location}"; use an IANA name such as Europe/Berlin, UTC or Local`, 'location');
    if (config.access_log) {
      try {
        fieldParser(config.access_log.format, { log_format: config.access_log.log_format || undefined });
      } catch (error) {
        report(errorMessage(error), 'access_log.format');
      }
    }
  },
  parsers: (id, config) => [{ id, format: 'syslog', module: WORKER_MODULE, options: parserOptions(config) }],
  lineFormats: LINE_FORMATS,
  parserForFormat: (id, format) => ({ id, format, module: WORKER_MODULE, options: {} }),
  create: (settings) => new SyslogReceiver(settings),
};
