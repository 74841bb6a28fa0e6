import type { Logger } from '../../core/logger.js';
import type { Counter, PipelineMetrics } from '../../core/telemetry/metrics.js';
import { DropReporter } from './drops.js';

/** The syslog receiver's own metrics, beside the accepted and refused counts every receiver reports. */
export interface SyslogCounters {
  labels: { receiver: string };
  /** `watchpost_syslog_framing_errors_total{reason}`: bad octet counts, frames cut short, missing trailers. */
  framingErrors: Counter;
  /** `watchpost_syslog_truncated_messages_total{transport}`: messages cut to `max_message_size`. */
  truncated: Counter;
  /** `watchpost_syslog_connections_refused_total{reason}`: over `max_connections`, failed TLS handshakes. */
  connectionsRefused: Counter;
  /** `watchpost_syslog_dropped_messages_total{transport,reason}`, logged once per period with a total. */
  drops: DropReporter;
  /** True once shutdown began, so retries stop. */
  stopping: () => boolean;
}

export function createCounters(receiver: string, metrics: PipelineMetrics, logger: Logger, stopping: () => boolean): SyslogCounters {
  const registry = metrics.registry;
  const labels = { receiver };
  return {
    labels,
    framingErrors: registry.counter('watchpost_syslog_framing_errors_total', 'Syslog TCP framing problems, by reason; the bytes are still delivered.'),
    truncated: registry.counter('watchpost_syslog_truncated_messages_total', 'Syslog messages cut to max_message_size, by transport.'),
    connectionsRefused: registry.counter('watchpost_syslog_connections_refused_total', 'Syslog connections closed at once, by reason.'),
    drops: new DropReporter(registry.counter('watchpost_syslog_dropped_messages_total', 'Syslog messages lost, by transport and reason.'), labels, logger),
    stopping,
  };
}
