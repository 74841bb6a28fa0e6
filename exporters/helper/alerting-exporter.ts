import type { CreateSettings } from '../../core/component.js';
import type { Finding } from '../../core/data/finding.js';
import type { Batch } from '../../core/data/batch.js';
import { quietPeriod, RateLimiter, sendEach, severityFilter, type AlertingConfig } from './alerting.js';
import type { ExporterHelperConfig } from './config.js';
import { HttpClient, type ClientTlsConfig } from './http.js';
import { AlertResolver, type OpenAlert } from './resolver.js';
import { QueuedExporter, type SendContext } from './sender.js';

/**
 * Time an alert stays open past its quiet period, at most. Detection sends a finding's `update`
 * (the repeats counted while it was suppressed) when the suppression period ends, which is also
 * when the quiet period of the `new` finding ends. Without this margin the resolve went out first
 * and the update opened a second incident.
 */
const MAX_RESOLVE_GRACE_MS = 10_000;

/** Returns how long after a sent finding its alert resolves when nothing else arrives. */
export function resolveDelay(finding: Finding, resolveAfter: number): number {
  const quiet = quietPeriod(finding, resolveAfter);
  const grace = Math.min(MAX_RESOLVE_GRACE_MS, quiet);
  // An update closes a suppression period: no later event is counted in it.
  return finding.status === 'update' ? grace : quiet + grace;
}

/** Settings shared by the alerting exporters (Slack, PagerDuty, Opsgenie, Alertmanager). */
export interface AlertingExporterConfig extends ExporterHelperConfig, AlertingConfig {
  tls: ClientTlsConfig;
}

/** The requests one alerting exporter sends to its destination. The rest of the wiring is shared. */
export interface AlertingDestination {
  /**
   * Sends one finding as one alert or message. Each finding is its own request, so a rejected
   * finding is retried alone and the ones before it are not sent twice.
   */
  sendOne?: (client: HttpClient, finding: Finding, signal: AbortSignal) => Promise<void>;
  /** Sends a batch's findings in one request, for destinations that take a list as a whole. */
  sendAll?: (client: HttpClient, findings: Finding[], signal: AbortSignal) => Promise<void>;
  /**
   * Closes an alert once its finding has been quiet for `resolveAfter` milliseconds (or the
   * finding's own suppression period, when it has one), see `resolveDelay`. Needs `sendOne`.
   */
  resolve?: {
    resolveAfter: number;
    maxOpen: number;
    send: (client: HttpClient, fingerprint: string, alert: OpenAlert, signal: AbortSignal) => Promise<void>;
  };
}

/**
 * Builds an alerting exporter: a queued exporter that keeps findings at or above `min_severity`,
 * drops those past `rate_limit` (counted), and, when the destination resolves alerts, tracks open
 * alerts until they resolve.
 */
export function createAlertingExporter<C extends AlertingExporterConfig>(settings: CreateSettings<C>, destination: AlertingDestination): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const limiter = new RateLimiter(config.rate_limit);
  const closing = destination.resolve;
  const resolver = closing
    ? new AlertResolver({
      id: settings.id,
      storage: settings.storage,
      logger: settings.logger,
      metrics: settings.metrics,
      maxOpen: closing.maxOpen,
      retry: config.retry_on_failure,
      timeout: config.timeout,
      resolve: (fingerprint, alert, signal) => closing.send(client, fingerprint, alert, signal),
    })
    : undefined;
  const { sendOne, sendAll } = destination;

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    if (sendAll) return sendAll(client, batch.findings, signal);
    if (!sendOne) return;
    const messages = batch.findings.map((finding) => ({
      findings: [finding],
      send: async (abort: AbortSignal) => {
        await sendOne(client, finding, abort);
        if (closing) resolver?.touch(finding, resolveDelay(finding, closing.resolveAfter));
      },
    }));
    await sendEach(messages, signal, context, batch.origin);
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    accept: severityFilter(config.min_severity),
    beforeSend: limiter.hook(),
    onStart: async () => resolver?.start(),
    onShutdown: async () => {
      await resolver?.stop();
      client.close();
    },
  });
}
